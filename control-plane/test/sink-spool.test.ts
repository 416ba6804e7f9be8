// The sink's batches as bytes: rows cross the off-heap chunk boundaries, are spooled while the store
// fails, survive a restart of the sink, and reach the store exactly as they were added.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckOutcome, AgentState, ControlAckSchema, Module, create } from "@mevlab/proto";
import { EventSink } from "../src/sink/sink";
import type { EventStore, SegmentRows } from "../src/sink/stores";
import { ACK_TABLE, rowJson } from "../src/sink/tables";

class RecordingStore implements EventStore {
  readonly kind = "parquet";
  readonly lines: string[] = [];
  readonly rowCounts: number[] = [];
  failing = false;
  async open(): Promise<void> {}
  async write(_segmentId: string, g: SegmentRows): Promise<void> {
    if (this.failing) throw new Error("store down (test)");
    const text = g.ndjson.toString("utf8");
    assert.ok(text.endsWith("\n"), "every row ends with a newline");
    this.lines.push(...text.slice(0, -1).split("\n"));
    this.rowCounts.push(g.rows);
  }
  async close(): Promise<void> {}
}

test("rows spooled while the store is down reach it byte for byte after a restart, across chunk boundaries", async () => {
  const spoolDir = mkdtempSync(join(tmpdir(), "mevlab-spool-"));
  const down = new RecordingStore();
  down.failing = true;
  const first = new EventSink({ store: down, spoolDir, flushMs: 60_000, maxRows: 1_500, log: () => undefined });
  await first.start();
  const expected: string[] = [];
  // About 1 KiB per row with multi-byte text, 4,000 rows: several 256 KiB chunks and three segments.
  for (let i = 0; i < 4_000; i++) {
    const ack = create(ControlAckSchema, {
      schemaVersion: 1,
      ts: BigInt(Date.UTC(2026, 10, 24, 5, 0, 0) + i),
      module: i % 2 ? Module.mev : Module.arbitrage,
      requestId: `req-${i}`,
      agentId: "agent-ü-1",
      outcome: AckOutcome.rejected,
      reason: `ladder rung ${i} — «too low» ✓ `.repeat(20),
      state: AgentState.running,
      throttlePct: i % 101,
    });
    first.add(ACK_TABLE, ack);
    expected.push(rowJson(ACK_TABLE as never, ACK_TABLE.row(ack)));
  }
  await first.close(100);
  assert.equal(down.lines.length, 0, "nothing reached the failing store");

  const up = new RecordingStore();
  const second = new EventSink({ store: up, spoolDir, log: () => undefined });
  await second.start();
  assert.ok(await second.flushed(10_000), "the spool drained");
  await second.close();
  assert.equal(up.lines.length, expected.length);
  assert.deepEqual(up.lines, expected);
  assert.equal(
    up.rowCounts.reduce((a, b) => a + b, 0),
    expected.length,
    "row counts read back from the spool",
  );
});
