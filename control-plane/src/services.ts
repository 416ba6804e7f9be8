import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { AgentMacVerifier, DataSource } from "@mevlab/kernel-helpers";
import { ControlRequest_State, Module, Stream } from "@mevlab/proto";
import { AgentRegistry } from "./agents/registry";
import type { AuditLog } from "./audit/log";
import { openAuditLog } from "./audit/open";
import { JwtKeyRing, loadOrCreateSecret } from "./auth/jwt-keys";
import { AgentVersions, agentVersionsPath } from "./auth/agent-revocations";
import { Revocation } from "./auth/revocation";
import { SessionStore } from "./auth/sessions";
import { agentMasterKeyPath } from "./auth/agent-credentials";
import { loadOrCreateSigningKeys, type SigningKeys } from "./auth/signing-keys";
import { TokenService } from "./auth/tokens";
import { UserStore, bootstrapAdmin } from "./auth/users";
import type { ControlPlaneConfig } from "./config";
import { RequestTracker } from "./control/requests";
import { LineageStore } from "./policy/lineage";
import { ShadowTracker } from "./policy/shadow";
import { ControlService } from "./control/service";
import { JobRunner } from "./datasets/jobs";
import { trainingRunner } from "./training/run";
import { RollingMetrics } from "./metrics/rolling";
import { NodeHealth } from "./node/health";
import { PolicyStore } from "./policy/store";
import { RealtimeHub } from "./realtime/hub";
import { EventSink } from "./sink/sink";
import { ClickHouseStore, ParquetStore, parseClickHouseUrl } from "./sink/stores";

/** The control plane's state and workers, shared by the feature plugins. */
export interface Services {
  users: UserStore;
  tokens: TokenService;
  /** Sessions (refresh tokens), API tokens and the jti deny-list. */
  sessions: SessionStore;
  /** What refuses revoked tokens, and says when something was revoked. */
  revocation: Revocation;
  /** The keys commands and policies are signed with. */
  signing: SigningKeys;
  /** Checks the agent_mac of acks and statuses against each agent's key (derived from secrets/agent.key). */
  agents: AgentMacVerifier;
  audit: AuditLog;
  registry: AgentRegistry;
  hub: RealtimeHub;
  rolling: RollingMetrics;
  sink?: EventSink;
  node: NodeHealth;
  tracker: RequestTracker;
  policies: PolicyStore;
  /** How each version was promoted, the command that carried it, the notebook it came from. */
  lineage: LineageStore;
  /** Live against shadow on the opportunities the agents scored with both. */
  shadow: ShadowTracker;
  control: ControlService;
  /** The store the sink writes, for dataset exports. */
  source: DataSource;
  /** The same store on a connection of its own, for curated queries: a running export never holds it. */
  querySource: DataSource;
  jobs: JobRunner;
}

function eventSink(config: ControlPlaneConfig, rolling: RollingMetrics): EventSink | undefined {
  if (!config.sink) return undefined;
  return new EventSink({
    store: config.clickhouseUrl
      ? new ClickHouseStore(parseClickHouseUrl(config.clickhouseUrl))
      : new ParquetStore(join(config.dataDir, "events")),
    spoolDir: join(config.dataDir, "spool"),
    flushMs: config.sinkFlushMs,
    onRowsWritten: (n) => rolling.countStoreRows(n),
    log: (line) => config.log(`sink: ${line}`),
  });
}

/** The node poller; each status goes to the summary and the node_status stream. */
function nodeHealth(config: ControlPlaneConfig, rolling: RollingMetrics, hub: RealtimeHub): NodeHealth {
  const node = new NodeHealth({
    url: config.nodeRpcUrl,
    referenceUrl: config.nodeReferenceRpcUrl,
    intervalMs: config.nodePollMs,
    onStatus: (status) => {
      rolling.node = status;
      const event = { case: "nodeStatus" as const, value: status };
      hub.publish(Stream.node_status, Module.MODULE_UNSPECIFIED, event, { coalesceKey: "node" });
    },
  });
  rolling.node = node.latest;
  return node;
}

/** Request records, each change pushed on the control_request stream. */
function requestTracker(config: ControlPlaneConfig, hub: RealtimeHub): RequestTracker {
  return new RequestTracker({
    file: join(config.dataDir, "requests", "requests.jsonl"),
    timeoutMs: config.requestTimeoutMs,
    fsync: config.journalFsync,
    log: config.log,
    onChange: (request) =>
      hub.publish(
        Stream.control_request,
        request.modules.length === 1 ? request.modules[0] : Module.MODULE_UNSPECIFIED,
        { case: "controlRequest", value: request },
        { pending: request.state === ControlRequest_State.pending },
      ),
  });
}

/** Dataset export jobs into the export roots and training jobs into `<data dir>/models`, each change pushed on the job stream. */
function jobRunner(config: ControlPlaneConfig, source: DataSource, hub: RealtimeHub): JobRunner {
  for (const r of config.exportRoots) if (!r.startsWith("s3://")) mkdirSync(r, { recursive: true });
  return new JobRunner({
    file: join(config.dataDir, "jobs", "jobs.jsonl"),
    source,
    allowedRoots: config.exportRoots,
    onChange: (job) =>
      hub.publish(Stream.job, Module.MODULE_UNSPECIFIED, { case: "job", value: job }, { coalesceKey: `job:${job.id}` }),
    log: (line) => config.log(`jobs: ${line}`),
    kinds: { training: trainingRunner({ source, dataDir: config.dataDir }) },
  });
}

/**
 * Opens everything in dependency order and registers each one's teardown as an onClose hook of `app`
 * as it goes. Fastify runs those hooks last-in first-out, so whatever uses something closes before
 * it (the audit log, opened first, closes last), on `close()` and on a failed start alike.
 */
export async function createServices(app: FastifyInstance, config: ControlPlaneConfig): Promise<Services> {
  const onClose = (close: () => unknown) => app.addHook("onClose", async () => void (await close()));
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const users = new UserStore(join(config.dataDir, "users.json"));
  const created = await bootstrapAdmin(users, config.bootstrapAdmin);
  if (created) config.log(`created admin '${created}' from MEVLAB_BOOTSTRAP_ADMIN`);
  const sessions = new SessionStore(join(config.dataDir, "auth", "sessions.json"), config.refreshTtlSeconds * 1000);
  onClose(() => sessions.flush());
  const agentVersions = new AgentVersions(agentVersionsPath(config.dataDir));
  const revocation = new Revocation(users, sessions, agentVersions, config.log);
  onClose(() => revocation.stop());
  const tokens = new TokenService(JwtKeyRing.load(config.dataDir), revocation);
  const signing = loadOrCreateSigningKeys(config.dataDir);
  const agents = new AgentMacVerifier(loadOrCreateSecret(agentMasterKeyPath(config.dataDir)));
  const audit = await openAuditLog(config);
  onClose(() => audit.close());
  const registry = new AgentRegistry();
  const hub = new RealtimeHub(config.hub);
  const rolling = new RollingMetrics();
  const sink = eventSink(config, rolling);
  if (sink) onClose(() => sink.close());
  const node = nodeHealth(config, rolling, hub);
  onClose(() => node.stop());
  const tracker = requestTracker(config, hub);
  onClose(() => tracker.close());
  const policies = new PolicyStore(join(config.dataDir, "policies"), { fsync: config.journalFsync, log: config.log });
  onClose(() => policies.close());
  const lineage = new LineageStore(join(config.dataDir, "policies"), { fsync: config.journalFsync, log: config.log });
  onClose(() => lineage.close());
  const control = new ControlService({
    bus: config.bus,
    tracker,
    registry,
    policies,
    audit,
    signer: signing.current,
    commandTtlMs: config.commandTtlMs,
  });
  const store = { clickhouseUrl: config.clickhouseUrl ?? "", dataDir: config.dataDir };
  const source = new DataSource(store);
  onClose(() => source.close());
  const querySource = new DataSource(store);
  onClose(() => querySource.close());
  const jobs = jobRunner(config, source, hub);
  onClose(() => jobs.close());
  return {
    users,
    tokens,
    sessions,
    revocation,
    signing,
    agents,
    audit,
    registry,
    hub,
    rolling,
    sink,
    node,
    tracker,
    policies,
    lineage,
    shadow: new ShadowTracker(),
    control,
    source,
    querySource,
    jobs,
  };
}
