// The data dir holds users, keys, journals and every event: the operator's alone. A data dir an older
// version made 0755 stayed so, and the sink's spool and Parquet parts were world-readable.
import assert from "node:assert/strict";
import { test } from "node:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBus } from "@mevlab/kernel-helpers";
import { AckOutcome, ControlAckSchema, Module, create } from "@mevlab/proto";
import { startControlPlane } from "../src";
import { EventSink } from "../src/sink/sink";
import { ParquetStore, type EventStore } from "../src/sink/stores";
import { ACK_TABLE, rowJson } from "../src/sink/tables";

const mode = (path: string): number => statSync(path).mode & 0o777;

const ack = (i: number) =>
  create(ControlAckSchema, {
    schemaVersion: 1,
    ts: BigInt(Date.UTC(2026, 10, 24, 5) + i),
    module: Module.mev,
    requestId: `req-${i}`,
    agentId: "mev-1",
    outcome: AckOutcome.applied,
  });

test("an existing data dir open to others is tightened to 0700 at start, and said so", async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), "mevlab-private-")), "data");
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  const lines: string[] = [];
  const bus = new LocalBus();
  const cp = await startControlPlane({
    dataDir,
    bus,
    port: 0,
    sink: false,
    logLevel: "silent",
    log: (l) => lines.push(l),
  });
  try {
    assert.equal(mode(dataDir), 0o700);
    assert.equal(mode(join(dataDir, "exports")), 0o700, "the default export root");
    assert.ok(
      lines.some((l) => l.includes("was open to other users (mode 755)")),
      lines.join("\n"),
    );
  } finally {
    await cp.close();
    await bus.close();
  }
});

test("spool segments are 0600 in a 0700 spool; Parquet parts 0600 in 0700 directories", async () => {
  const root = mkdtempSync(join(tmpdir(), "mevlab-private-"));
  const spoolDir = join(root, "spool");
  const down: EventStore = {
    kind: "parquet",
    open: async () => undefined,
    write: async () => Promise.reject(new Error("store down (test)")),
    close: async () => undefined,
  };
  const sink = new EventSink({ store: down, spoolDir, flushMs: 60_000, log: () => undefined });
  await sink.start();
  sink.add(ACK_TABLE, ack(1));
  await sink.close(100);
  assert.equal(mode(spoolDir), 0o700);
  const segments = readdirSync(spoolDir);
  assert.ok(segments.length > 0, "a segment was spooled");
  for (const s of segments) assert.equal(mode(join(spoolDir, s)), 0o600, s);

  const events = join(root, "events");
  const store = new ParquetStore(events);
  await store.open();
  const ndjson = Buffer.from(rowJson(ACK_TABLE as never, ACK_TABLE.row(ack(2))) + "\n");
  await store.write("seg-1", { table: ACK_TABLE.name, date: "2026-11-24", hour: "05", rows: 1, ndjson });
  await store.close();
  const dir = join(events, ACK_TABLE.name, "date=2026-11-24", "hour=05");
  for (const d of [join(events, ACK_TABLE.name), dir]) assert.equal(mode(d), 0o700, d);
  assert.equal(mode(join(dir, "part-seg-1.parquet")), 0o600);
});
