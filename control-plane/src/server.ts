import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Fastify from "fastify";
import cors from "@fastify/cors";
import type { Bus, Subscription } from "@mevlab/kernel-helpers";
import { Module, Stream } from "@mevlab/proto";
import { AgentRegistry } from "./agents/registry";
import { agentRoutes } from "./agents/routes";
import { AuditLog } from "./audit/log";
import { authRoutes } from "./auth/routes";
import { TokenService, loadOrCreateSecret } from "./auth/tokens";
import { UserStore, bootstrapAdmin } from "./auth/users";
import { controlRoutes } from "./control/routes";
import { RequestTracker } from "./control/requests";
import { ControlService } from "./control/service";
import { policyRoutes } from "./policy/routes";
import { PolicyStore } from "./policy/store";
import { HttpError, errorHandler } from "./http/errors";
import { bridgeBusToHub } from "./realtime/bridge";
import { RealtimeHub } from "./realtime/hub";
import { webSocketUpgrades } from "./realtime/ws";

export interface ControlPlaneOptions {
  dataDir: string;
  bus: Bus;
  port?: number;
  host?: string;
  /** Browser origins allowed to call the API (the JupyterLab origin). */
  corsOrigins?: readonly string[];
  accessTtlSeconds?: number;
  /** `user:password`: creates this admin when there are no users yet. */
  bootstrapAdmin?: string;
  /** How long a request waits for every expected agent's ack before it is final as `timeout`. */
  requestTimeoutMs?: number;
  /** How long after issue an agent may still apply a command (`not_after`). */
  commandTtlMs?: number;
  log?: (line: string) => void;
}

export interface ControlPlane {
  url: string;
  port: number;
  users: UserStore;
  tokens: TokenService;
  /** A token for a reference agent to open the bus link of the embedded default. */
  mintAgentToken(agentId: string, ttlSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

export const BODY_LIMIT = 64 * 1024;

/** Stable per data dir, so a restarted control plane resumes its ack consumer where it stopped. */
function instanceId(dataDir: string): string {
  const file = join(dataDir, "instance-id");
  if (!existsSync(file)) writeFileSync(file, randomUUID().slice(0, 8), { mode: 0o600, flag: "wx" });
  return readFileSync(file, "utf8").trim();
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`control-plane: ${line}\n`));
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const users = new UserStore(join(opts.dataDir, "users.json"));
  const created = await bootstrapAdmin(users, opts.bootstrapAdmin);
  if (created) log(`created admin '${created}' from MEVLAB_BOOTSTRAP_ADMIN`);
  const tokens = new TokenService(loadOrCreateSecret(join(opts.dataDir, "secrets", "jwt.key")));
  const audit = new AuditLog(join(opts.dataDir, "audit", "audit.jsonl"));
  const registry = new AgentRegistry();
  const hub = new RealtimeHub();
  const accessTtlSeconds = opts.accessTtlSeconds ?? 900;
  const tracker = new RequestTracker({
    file: join(opts.dataDir, "requests", "requests.jsonl"),
    timeoutMs: opts.requestTimeoutMs ?? 5_000,
    onChange: (request) =>
      hub.publish(
        Stream.control_request,
        request.modules.length === 1 ? request.modules[0] : Module.MODULE_UNSPECIFIED,
        {
          case: "controlRequest",
          value: request,
        },
      ),
  });
  const policies = new PolicyStore(join(opts.dataDir, "policies"));
  const service = new ControlService({
    bus: opts.bus,
    tracker,
    registry,
    policies,
    audit,
    commandTtlMs: opts.commandTtlMs,
  });

  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ ok: false, error: { code: "not_found", message: `no endpoint ${req.method} ${req.url}` } });
  });
  await app.register(cors, {
    origin: [...(opts.corsOrigins ?? [])],
    allowedHeaders: ["Authorization", "Content-Type", "X-Requested-With"],
    methods: ["GET", "POST"],
  });
  authRoutes(app, { users, tokens, accessTtlSeconds });
  controlRoutes(app, { tokens, audit, service, tracker });
  policyRoutes(app, { tokens, audit, service, tracker, policies });
  agentRoutes(app, { tokens, registry });
  const { handleUpgrade, closeSockets } = webSocketUpgrades({ tokens, hub, bus: opts.bus });
  app.server.on("upgrade", handleUpgrade);

  let bridge: Subscription[] = [];
  try {
    bridge = await bridgeBusToHub(opts.bus, hub, registry, (ack) => tracker.onAck(ack), instanceId(opts.dataDir), log);
    await app.listen({ port: opts.port ?? 8765, host: opts.host ?? "127.0.0.1" });
  } catch (err) {
    await Promise.all(bridge.map((b) => b.close()));
    tracker.close();
    await app.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (opts.port ?? 8765);
  const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    port,
    users,
    tokens,
    mintAgentToken: (agentId, ttl = 30 * 24 * 3600) => tokens.issue(agentId, "agent", ttl),
    close: async () => {
      await Promise.all(bridge.map((b) => b.close()));
      tracker.close();
      closeSockets();
      await app.close();
      audit.close();
    },
  };
}

export { HttpError };
