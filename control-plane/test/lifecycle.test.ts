// One teardown for close() and for a start that fails: what a control plane opened (journals, the
// audit log, the sink's spool, timers) is closed either way. A failed start used to leave the audit
// log open and the realtime sockets' server behind.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalBus } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";

let bus: LocalBus;
let first: ControlPlane;

/** Open file descriptors and running timers of this process. */
const held = () => ({
  fds: readdirSync("/proc/self/fd").length,
  timers: process.getActiveResourcesInfo().filter((r) => r === "Timeout").length,
});

const options = () => ({
  dataDir: mkdtempSync(join(tmpdir(), "mevlab-lifecycle-")),
  bus,
  port: 0,
  sinkFlushMs: 60_000,
  log: () => undefined,
});

before(async () => {
  bus = new LocalBus();
  // The first start also opens what the process keeps for good (thread pool, DuckDB), before counting.
  first = await startControlPlane(options());
});

after(async () => {
  await first.close();
  await bus.close();
});

test("close() closes what the control plane opened", async () => {
  const before = held();
  const cp = await startControlPlane(options());
  assert.ok(held().fds > before.fds, "a running control plane holds files");
  await cp.close();
  assert.deepEqual(held(), before);
});

test("a start that fails (port taken) closes what it had opened, and says why", async () => {
  const before = held();
  await assert.rejects(startControlPlane({ ...options(), port: first.port }), /EADDRINUSE/);
  assert.deepEqual(held(), before);
});
