import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Fastify from "fastify";
import cors from "@fastify/cors";
import { DataSource, type Bus, type Subscription } from "@mevlab/kernel-helpers";
import { ControlRequest_State, Module, Stream } from "@mevlab/proto";
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
import { useDepthLimitedJson } from "./http/json";
import { bridgeBusToHub } from "./realtime/bridge";
import { RealtimeHub, type HubOptions } from "./realtime/hub";
import { webSocketUpgrades } from "./realtime/ws";
import { RollingMetrics } from "./metrics/rolling";
import { metricsRoutes } from "./metrics/routes";
import { NodeHealth } from "./node/health";
import { EventSink } from "./sink/sink";
import { ClickHouseStore, ParquetStore, parseClickHouseUrl } from "./sink/stores";
import { JobRunner } from "./datasets/jobs";
import { datasetRoutes } from "./datasets/routes";
import { queryRoutes } from "./queries/routes";

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
  /** Realtime fan-out tuning (replay buffer, per-client queue cap, batch time). */
  hub?: HubOptions;
  /** permessage-deflate for realtime clients that offer it (default on). */
  wsDeflate?: boolean;
  /** Event store: ClickHouse at this URL (http://user:password@host:8123/database), else Parquet under the data dir. */
  clickhouseUrl?: string;
  /** false: no event sink at all. */
  sink?: boolean;
  /** How often the sink writes a batch (default 5 s to Parquet, 1 s to ClickHouse). */
  sinkFlushMs?: number;
  /** The private node's JSON-RPC, and an optional reference RPC for slot lag. */
  nodeRpcUrl?: string;
  nodeReferenceRpcUrl?: string;
  nodePollMs?: number;
  /**
   * Where dataset exports may be written: directories and s3://bucket[/prefix] roots. Default
   * `MEVLAB_EXPORT_ROOTS` (comma-separated) or `<dataDir>/exports`; relative outputs go under the first.
   */
  exportRoots?: readonly string[];
  log?: (line: string) => void;
}

export interface ControlPlane {
  url: string;
  port: number;
  users: UserStore;
  tokens: TokenService;
  /** A token for a reference agent to open the bus link of the embedded default. */
  mintAgentToken(agentId: string, ttlSeconds?: number): Promise<string>;
  /** The event sink (undefined when turned off). */
  sink?: EventSink;
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
  const hub = new RealtimeHub(opts.hub);
  const rolling = new RollingMetrics();
  const sink =
    opts.sink === false
      ? undefined
      : new EventSink({
          store: opts.clickhouseUrl
            ? new ClickHouseStore(parseClickHouseUrl(opts.clickhouseUrl))
            : new ParquetStore(join(opts.dataDir, "events")),
          spoolDir: join(opts.dataDir, "spool"),
          // Parquet files are read whole: fewer, larger ones; ClickHouse takes frequent inserts.
          flushMs: opts.sinkFlushMs ?? (opts.clickhouseUrl ? 1_000 : 5_000),
          onRowsWritten: (n) => rolling.countStoreRows(n),
          log: (line) => log(`sink: ${line}`),
        });
  const node = new NodeHealth({
    url: opts.nodeRpcUrl,
    referenceUrl: opts.nodeReferenceRpcUrl,
    intervalMs: opts.nodePollMs,
    onStatus: (status) => {
      rolling.node = status;
      hub.publish(
        Stream.node_status,
        Module.MODULE_UNSPECIFIED,
        { case: "nodeStatus", value: status },
        { coalesceKey: "node" },
      );
    },
  });
  rolling.node = node.latest;
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
        { pending: request.state === ControlRequest_State.pending },
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

  // Datasets and curated queries read the same store the sink writes; each has its own DuckDB
  // connection, so a running export and a query never share one.
  const source = new DataSource({ clickhouseUrl: opts.clickhouseUrl ?? "", dataDir: opts.dataDir });
  const querySource = new DataSource({ clickhouseUrl: opts.clickhouseUrl ?? "", dataDir: opts.dataDir });
  const envRoots = (process.env.MEVLAB_EXPORT_ROOTS ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const exportRoots = [...(opts.exportRoots ?? (envRoots.length ? envRoots : [join(opts.dataDir, "exports")]))];
  for (const r of exportRoots) if (!r.startsWith("s3://")) mkdirSync(r, { recursive: true });
  const jobs = new JobRunner({
    file: join(opts.dataDir, "jobs", "jobs.jsonl"),
    source,
    allowedRoots: exportRoots,
    onChange: (job) =>
      hub.publish(Stream.job, Module.MODULE_UNSPECIFIED, { case: "job", value: job }, { coalesceKey: `job:${job.id}` }),
    log: (line) => log(`jobs: ${line}`),
  });

  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
  app.removeContentTypeParser("text/plain");
  useDepthLimitedJson(app);
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
  metricsRoutes(app, { tokens, rolling, hub, sink, tracker });
  datasetRoutes(app, { tokens, audit, jobs, allowedRoots: exportRoots });
  queryRoutes(app, { tokens, source: querySource });
  const { handleUpgrade, closeSockets } = webSocketUpgrades({
    tokens,
    hub,
    bus: opts.bus,
    deflate: opts.wsDeflate ?? true,
    log,
  });
  app.server.on("upgrade", handleUpgrade);

  let bridge: Subscription[] = [];
  // The summary card stream: once a second, to every subscriber of metrics_update.
  const summaryTimer = setInterval(
    () =>
      hub.publish(
        Stream.metrics_update,
        Module.MODULE_UNSPECIFIED,
        { case: "metricsSummary", value: rolling.summary() },
        { coalesceKey: "summary" },
      ),
    1_000,
  );
  try {
    await sink?.start();
    bridge = await bridgeBusToHub({
      bus: opts.bus,
      hub,
      registry,
      rolling,
      sink,
      onAck: (ack) => tracker.onAck(ack),
      instanceId: instanceId(opts.dataDir),
      log,
    });
    node.start();
    await app.listen({ port: opts.port ?? 8765, host: opts.host ?? "127.0.0.1" });
  } catch (err) {
    clearInterval(summaryTimer);
    node.stop();
    await Promise.all(bridge.map((b) => b.close()));
    await sink?.close();
    tracker.close();
    await jobs.close();
    await source.close();
    await querySource.close();
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
    sink,
    close: async () => {
      clearInterval(summaryTimer);
      node.stop();
      await Promise.all(bridge.map((b) => b.close()));
      await jobs.close();
      await sink?.close();
      await source.close();
      await querySource.close();
      tracker.close();
      closeSockets();
      await app.close();
      audit.close();
    },
  };
}

export { HttpError };
