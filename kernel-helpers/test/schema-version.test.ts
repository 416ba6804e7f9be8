import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentStatusSchema, SCHEMA_VERSION_HEADER, TOPICS, create, encode } from "@mevlab/proto";
import { LocalBus, SchemaVersionError, SkippedRecords, subscribeMessages, type BusRecord } from "../src";

test("subscribeMessages skips a record of an unknown schema major before decoding, with a SchemaVersionError", async () => {
  const bus = new LocalBus();
  try {
    const got: string[] = [];
    const bad: [BusRecord, unknown][] = [];
    let done!: () => void;
    const last = new Promise<void>((resolve) => (done = resolve));
    await subscribeMessages(
      bus,
      TOPICS.agentStatus,
      { group: "test", onBadRecord: (record, err) => void bad.push([record, err]) },
      (status) => {
        got.push(status.agentId);
        if (status.agentId === "last") done();
      },
    );
    const value = (agentId: string) => encode(AgentStatusSchema, create(AgentStatusSchema, { agentId }));
    const version = (v: string) => ({ [SCHEMA_VERSION_HEADER]: v });
    await bus.publish(TOPICS.agentStatus.name, [
      { key: "a", value: value("v1"), headers: version("1") },
      // Bytes that would decode: only the header says they are not for this code.
      { key: "b", value: value("v2"), headers: version("2") },
      { key: "c", value: value("no-header") },
      { key: "d", value: value("garbled"), headers: version("two") },
      { key: "e", value: value("last"), headers: version("1") },
    ]);
    await last;
    assert.deepEqual(got, ["v1", "no-header", "last"]);
    assert.deepEqual(
      bad.map(([r]) => r.key),
      ["b", "d"],
    );
    for (const [record, err] of bad) {
      assert.ok(err instanceof SchemaVersionError);
      assert.equal(err.topic, TOPICS.agentStatus.name);
      assert.equal(err.version, record.headers[SCHEMA_VERSION_HEADER]);
      assert.match(err.message, /schema version "(2|two)"/);
    }
  } finally {
    await bus.close();
  }
});

test("SkippedRecords counts per topic and reason and reports the first ten, then every 1000th", () => {
  const skipped = new SkippedRecords();
  const reported: bigint[] = [];
  for (let i = 0; i < 3_000; i++) {
    const n = skipped.note("agent-status", "schema_version");
    if (n !== undefined) reported.push(n);
  }
  assert.equal(skipped.note("control-commands", "misrouted"), 1n);
  assert.deepEqual(reported, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, 1000n, 2000n, 3000n]);
  assert.deepEqual(skipped.entries(), [
    { topic: "agent-status", reason: "schema_version", count: 3000n },
    { topic: "control-commands", reason: "misrouted", count: 1n },
  ]);
  assert.equal(skipped.total(), 3001n);
});
