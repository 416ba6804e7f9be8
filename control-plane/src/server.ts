import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Fastify from "fastify";
import cors from "@fastify/cors";
import type { Bus, Subscription } from "@mevlab/kernel-helpers";
import { AgentRegistry } from "./agents/registry";
import { agentRoutes } from "./agents/routes";
import { AuditLog } from "./audit/log";
import { authRoutes } from "./auth/routes";
import { TokenService, loadOrCreateSecret } from "./auth/tokens";
import { UserStore, bootstrapAdmin } from "./auth/users";
import { controlRoutes } from "./control/routes";
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
  controlRoutes(app, { bus: opts.bus, tokens, audit });
  agentRoutes(app, { tokens, registry });
  app.server.on("upgrade", webSocketUpgrades({ tokens, hub, bus: opts.bus }));

  let bridge: Subscription | undefined;
  try {
    bridge = await bridgeBusToHub(opts.bus, hub, registry, randomUUID().slice(0, 8), log);
    await app.listen({ port: opts.port ?? 8765, host: opts.host ?? "127.0.0.1" });
  } catch (err) {
    await bridge?.close();
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
      await bridge?.close();
      await app.close();
    },
  };
}

export { HttpError };
