// The control plane's configuration is read in one place: the environment's settings, and the
// defaults startControlPlane fills in.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { LocalBus } from "@mevlab/kernel-helpers";
import { resolveConfig, settingsFromEnv } from "../src";

test("settingsFromEnv reads every setting of the README's Configuration table", () => {
  const s = settingsFromEnv({
    MEVLAB_BOOTSTRAP_ADMIN: "ops:pw-pw-pw-pw",
    MEVLAB_ACCESS_TTL_S: "300",
    MEVLAB_REFRESH_TTL_S: "86400",
    MEVLAB_COMMAND_TTL_MS: "3000",
    MEVLAB_REQUEST_TIMEOUT_MS: "7000",
    CLICKHOUSE_URL: "http://ch:8123/mevlab",
    MEVLAB_SINK_FLUSH_MS: "250",
    MEVLAB_NODE_RPC: "http://node:8899",
    MEVLAB_REFERENCE_RPC: "",
    MEVLAB_NODE_POLL_MS: "2000",
    MEVLAB_WS_DEFLATE: "0",
    MEVLAB_CORS_ORIGINS: "http://a, http://b",
    MEVLAB_EXPORT_ROOTS: "/data/exports, s3://bucket/datasets,",
    MEVLAB_AUDIT_ANCHOR: "/elsewhere/audit-head.json",
    MEVLAB_MODEL_STORE: "s3://models/team",
    MEVLAB_MODEL_MAX_BYTES: "1048576",
    MEVLAB_JOURNAL_FSYNC: "0",
    MEVLAB_WS_PING_MS: "5000",
    MEVLAB_WS_MAX_PER_USER: "8",
    MEVLAB_WS_MAX: "200",
    MEVLAB_HTTP_REQUEST_TIMEOUT_MS: "20000",
    MEVLAB_HTTP_HEADERS_TIMEOUT_MS: "5000",
    MEVLAB_HTTP_IDLE_TIMEOUT_MS: "90000",
    MEVLAB_LOG_LEVEL: "warn",
  });
  assert.deepEqual(s, {
    bootstrapAdmin: "ops:pw-pw-pw-pw",
    accessTtlSeconds: 300,
    refreshTtlSeconds: 86400,
    commandTtlMs: 3000,
    requestTimeoutMs: 7000,
    clickhouseUrl: "http://ch:8123/mevlab",
    sinkFlushMs: 250,
    nodeRpcUrl: "http://node:8899",
    nodeReferenceRpcUrl: undefined,
    nodePollMs: 2000,
    wsDeflate: false,
    corsOrigins: ["http://a", "http://b"],
    exportRoots: ["/data/exports", "s3://bucket/datasets"],
    auditAnchor: "/elsewhere/audit-head.json",
    modelStore: "s3://models/team",
    modelMaxBytes: 1048576,
    journalFsync: false,
    wsPingMs: 5000,
    wsMaxPerUser: 8,
    wsMax: 200,
    httpRequestTimeoutMs: 20000,
    httpHeadersTimeoutMs: 5000,
    httpIdleTimeoutMs: 90000,
    logLevel: "warn",
  });
  assert.throws(
    () => settingsFromEnv({ MEVLAB_SINK_FLUSH_MS: "soon" }),
    /MEVLAB_SINK_FLUSH_MS must be a positive integer of milliseconds, got 'soon'/,
  );
  assert.throws(() => settingsFromEnv({ MEVLAB_WS_MAX: "-1" }), /MEVLAB_WS_MAX must be a positive integer, got '-1'/);
  assert.throws(
    () => settingsFromEnv({ MEVLAB_MODEL_MAX_BYTES: "64M" }),
    /MEVLAB_MODEL_MAX_BYTES must be a positive integer, got '64M'/,
  );
  assert.throws(() => settingsFromEnv({ MEVLAB_LOG_LEVEL: "loud" }), /MEVLAB_LOG_LEVEL must be one of fatal, error/);
});

test("export roots: the option, else MEVLAB_EXPORT_ROOTS, else <data dir>/exports", () => {
  const base = { dataDir: "/var/mevlab", bus: new LocalBus() };
  assert.deepEqual(resolveConfig({ ...base, exportRoots: ["/x"] }, { MEVLAB_EXPORT_ROOTS: "/y" }).exportRoots, ["/x"]);
  assert.deepEqual(resolveConfig(base, { MEVLAB_EXPORT_ROOTS: "/y,/z" }).exportRoots, ["/y", "/z"]);
  assert.deepEqual(resolveConfig(base, {}).exportRoots, [join("/var/mevlab", "exports")]);
  // Only the export roots come from the environment here; the rest is the caller's (settingsFromEnv).
  const config = resolveConfig(base, { CLICKHOUSE_URL: "http://ch:8123/x", MEVLAB_COMMAND_TTL_MS: "nonsense" });
  assert.equal(config.clickhouseUrl, undefined);
  assert.equal(config.sinkFlushMs, 5_000);
  assert.equal(config.port, 8765);
});
