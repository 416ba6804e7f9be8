import { join } from "node:path";
import type { Bus, S3Settings } from "@mevlab/kernel-helpers";
import type { HubOptions } from "./realtime/hub";

export interface ControlPlaneOptions {
  dataDir: string;
  bus: Bus;
  port?: number;
  host?: string;
  /** Browser origins allowed to call the API (the JupyterLab origin). */
  corsOrigins?: readonly string[];
  /** Lifetime of an access token (default 900 s) and of a refresh token (default 7 days, renewed at each use). */
  accessTtlSeconds?: number;
  refreshTtlSeconds?: number;
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
  /**
   * Where the audit log's head is anchored, outside the data dir: a file path (`MEVLAB_AUDIT_ANCHOR`).
   * Unset: a removed tail of the log cannot be detected.
   */
  auditAnchor?: string;
  /** How often the anchor is rewritten when the head moved (default 10 s); it is also written on close. */
  auditAnchorEveryMs?: number;
  /**
   * The model store's S3 backing, `s3://bucket/prefix` (`MEVLAB_MODEL_STORE`); unset: models live only
   * under `<dataDir>/models` (which is the local cache when set). docs/models.md.
   */
  modelStore?: string;
  /** The S3 client for modelStore (default: the AWS environment variables, as dataset exports). */
  modelStoreS3?: S3Settings;
  /** The largest model an upload may carry, in bytes (`MEVLAB_MODEL_MAX_BYTES`, default 64 MiB). */
  modelMaxBytes?: number;
  /** Flush audit, request and policy lines to the disk (default true; `MEVLAB_JOURNAL_FSYNC=0` turns it off). */
  journalFsync?: boolean;
  log?: (line: string) => void;
  /** Every accepted WebSocket is pinged this often; one that has not answered the previous ping is dropped. */
  wsPingMs?: number;
  /** Open WebSockets (realtime and bus link together) per user, and in all (docs/configuration.md). */
  wsMaxPerUser?: number;
  wsMax?: number;
  /** Whole request (headers and body) received within this, headers within the next; idle socket timeout. */
  httpRequestTimeoutMs?: number;
  httpHeadersTimeoutMs?: number;
  httpIdleTimeoutMs?: number;
  /** The structured log (pino): its level (`MEVLAB_LOG_LEVEL`, default info) and where it goes (stderr). */
  logLevel?: string;
  logStream?: { write(line: string): void };
}

/** The options with their defaults filled in: what the rest of the control plane reads. */
export interface ControlPlaneConfig extends ControlPlaneOptions {
  port: number;
  host: string;
  corsOrigins: readonly string[];
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  requestTimeoutMs: number;
  wsDeflate: boolean;
  sink: boolean;
  sinkFlushMs: number;
  exportRoots: readonly string[];
  modelMaxBytes: number;
  journalFsync: boolean;
  log: (line: string) => void;
  wsPingMs: number;
  wsMaxPerUser: number;
  wsMax: number;
  httpRequestTimeoutMs: number;
  httpHeadersTimeoutMs: number;
  httpIdleTimeoutMs: number;
  logLevel: string;
}

const list = (v: string | undefined): string[] | undefined => {
  const items = (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : undefined;
};

/** `MEVLAB_EXPORT_ROOTS`, comma-separated. */
const exportRootsFromEnv = (env: NodeJS.ProcessEnv): string[] | undefined => list(env.MEVLAB_EXPORT_ROOTS);

function envMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer of milliseconds, got '${v}'`);
  return n;
}

function envCount(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${v}'`);
  return n;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function envLogLevel(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.MEVLAB_LOG_LEVEL;
  if (v === undefined || v === "") return undefined;
  if (!LOG_LEVELS.includes(v)) throw new Error(`MEVLAB_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got '${v}'`);
  return v;
}

/**
 * The settings of the control plane that come from the environment (README: "Configuration"),
 * read in this one place.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ControlPlaneOptions> {
  return {
    bootstrapAdmin: env.MEVLAB_BOOTSTRAP_ADMIN,
    accessTtlSeconds: envCount(env, "MEVLAB_ACCESS_TTL_S"),
    refreshTtlSeconds: envCount(env, "MEVLAB_REFRESH_TTL_S"),
    commandTtlMs: envMs(env, "MEVLAB_COMMAND_TTL_MS"),
    requestTimeoutMs: envMs(env, "MEVLAB_REQUEST_TIMEOUT_MS"),
    clickhouseUrl: env.CLICKHOUSE_URL || undefined,
    sinkFlushMs: envMs(env, "MEVLAB_SINK_FLUSH_MS"),
    nodeRpcUrl: env.MEVLAB_NODE_RPC || undefined,
    nodeReferenceRpcUrl: env.MEVLAB_REFERENCE_RPC || undefined,
    nodePollMs: envMs(env, "MEVLAB_NODE_POLL_MS"),
    wsDeflate: env.MEVLAB_WS_DEFLATE !== "0",
    corsOrigins: list(env.MEVLAB_CORS_ORIGINS) ?? [],
    exportRoots: exportRootsFromEnv(env),
    auditAnchor: env.MEVLAB_AUDIT_ANCHOR || undefined,
    modelStore: env.MEVLAB_MODEL_STORE || undefined,
    modelMaxBytes: envCount(env, "MEVLAB_MODEL_MAX_BYTES"),
    journalFsync: env.MEVLAB_JOURNAL_FSYNC !== "0",
    wsPingMs: envMs(env, "MEVLAB_WS_PING_MS"),
    wsMaxPerUser: envCount(env, "MEVLAB_WS_MAX_PER_USER"),
    wsMax: envCount(env, "MEVLAB_WS_MAX"),
    httpRequestTimeoutMs: envMs(env, "MEVLAB_HTTP_REQUEST_TIMEOUT_MS"),
    httpHeadersTimeoutMs: envMs(env, "MEVLAB_HTTP_HEADERS_TIMEOUT_MS"),
    httpIdleTimeoutMs: envMs(env, "MEVLAB_HTTP_IDLE_TIMEOUT_MS"),
    logLevel: envLogLevel(env),
  };
}

/**
 * Every default in one place. Of the environment only the export roots apply here, as they always
 * have when the caller gives none; a caller that wants the rest passes `settingsFromEnv()`.
 */
export function resolveConfig(opts: ControlPlaneOptions, env: NodeJS.ProcessEnv = process.env): ControlPlaneConfig {
  return {
    ...opts,
    port: opts.port ?? 8765,
    host: opts.host ?? "127.0.0.1",
    corsOrigins: opts.corsOrigins ?? [],
    accessTtlSeconds: opts.accessTtlSeconds ?? 900,
    refreshTtlSeconds: opts.refreshTtlSeconds ?? 7 * 24 * 3600,
    requestTimeoutMs: opts.requestTimeoutMs ?? 5_000,
    wsDeflate: opts.wsDeflate ?? true,
    sink: opts.sink ?? true,
    // Parquet files are read whole: fewer, larger ones; ClickHouse takes frequent inserts.
    sinkFlushMs: opts.sinkFlushMs ?? (opts.clickhouseUrl ? 1_000 : 5_000),
    exportRoots: opts.exportRoots ?? exportRootsFromEnv(env) ?? [join(opts.dataDir, "exports")],
    modelMaxBytes: opts.modelMaxBytes ?? 64 * 1024 * 1024,
    journalFsync: opts.journalFsync ?? true,
    log: opts.log ?? ((line: string) => process.stderr.write(`control-plane: ${line}\n`)),
    wsPingMs: opts.wsPingMs ?? 10_000,
    wsMaxPerUser: opts.wsMaxPerUser ?? 32,
    wsMax: opts.wsMax ?? 1_024,
    httpRequestTimeoutMs: opts.httpRequestTimeoutMs ?? 30_000,
    httpHeadersTimeoutMs: opts.httpHeadersTimeoutMs ?? 10_000,
    httpIdleTimeoutMs: opts.httpIdleTimeoutMs ?? 60_000,
    logLevel: opts.logLevel ?? "info",
  };
}
