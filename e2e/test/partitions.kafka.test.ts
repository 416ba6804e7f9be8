// Partitioning is part of the contract: an agent reads only the partition of control-commands its
// module's key maps to (murmur2), so a command a foreign producer puts elsewhere reaches no agent.
// The control plane reads every partition and reports such a command: in its log, in
// mevlab_records_skipped_total{reason="misrouted"} and on the realtime stream bus_problem. A command
// on its key's partition is not flagged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKafka, type KafkaBroker } from "@mevlab/cli";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { KafkaBus, RealtimeConnection, nodeTransport, partitionOfKey, publishMessages } from "@mevlab/kernel-helpers";
import {
  Action,
  ControlCommandSchema,
  Module,
  SCHEMA_VERSION_HEADER,
  Stream,
  TOPICS,
  create,
  encode,
  type BusProblem,
  type ControlCommand,
} from "@mevlab/proto";
import { Kafka, logLevel, type Producer } from "kafkajs";

let kafka: KafkaBroker;
let bus: KafkaBus;
let raw: Producer;
let cp: ControlPlane;
let token: string;
const logs: string[] = [];

before(async () => {
  kafka = await startKafka();
  bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "cp-partitions-test" });
  await bus.connect();
  raw = new Kafka({ brokers: [kafka.brokers], clientId: "foreign-producer", logLevel: logLevel.NOTHING }).producer();
  await raw.connect();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-partitions-")),
    bus,
    port: 0,
    sink: false,
    log: (line) => void logs.push(line),
  });
  token = await cp.tokens.issue("viewer-1", "viewer", 900);
});

after(async () => {
  await cp?.close();
  await raw?.disconnect();
  await bus?.close();
  await kafka?.stop();
});

function command(module: Module, requestId: string): ControlCommand {
  const now = BigInt(Date.now());
  return create(ControlCommandSchema, {
    schemaVersion: 1,
    module,
    action: Action.throttle,
    args: { throttlePct: 10 },
    requestId,
    ts: now,
    notAfter: now + 60_000n,
  });
}

test("a command on a partition its key does not map to is logged, counted and reported; one on its key's partition is not", async () => {
  assert.equal(partitionOfKey("mev", TOPICS.controlCommands.partitions), 1);
  assert.equal(partitionOfKey("arbitrage", TOPICS.controlCommands.partitions), 0);
  const ws = await RealtimeConnection.open(cp.url, token, nodeTransport.webSocket, { streams: [Stream.bus_problem] });
  const problems: BusProblem[] = [];
  let timer: NodeJS.Timeout | undefined;
  const twoReported = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for 2 bus problems; got ${problems.length}`)), 60_000);
    ws.listen({
      onEvents: (events) => {
        for (const e of events) if (e.payload.case === "busProblem") problems.push(e.payload.value);
        if (problems.length >= 2) resolve();
      },
    });
  });
  // Awaited below, after the publishes; a timeout meanwhile must not count as unhandled.
  twoReported.catch(() => undefined);
  try {
    // Routed by mevlab's own producer (kafkajs' DefaultPartitioner): mev to 1, arbitrage to 0.
    await publishMessages(bus, TOPICS.controlCommands, [
      { key: "mev", message: command(Module.mev, "routed-mev") },
      { key: "arbitrage", message: command(Module.arbitrage, "routed-arb") },
    ]);
    // Then, as a producer with another partitioner would: each behind a routed one in the same
    // partition, so once both are reported the routed ones have been looked at too.
    const header = { [SCHEMA_VERSION_HEADER]: "1" };
    await raw.send({
      topic: TOPICS.controlCommands.name,
      acks: -1,
      messages: [
        {
          key: "mev",
          partition: 0,
          value: Buffer.from(encode(ControlCommandSchema, command(Module.mev, "misrouted-mev"))),
          headers: header,
        },
        {
          key: "arbitrage",
          partition: 1,
          value: Buffer.from(encode(ControlCommandSchema, command(Module.arbitrage, "misrouted-arb"))),
          headers: header,
        },
      ],
    });
    await twoReported;
    const byId = new Map(problems.map((p) => [p.requestId, p]));
    assert.deepEqual([...byId.keys()].sort(), ["misrouted-arb", "misrouted-mev"]);
    const mev = byId.get("misrouted-mev")!;
    assert.equal(mev.topic, TOPICS.controlCommands.name);
    assert.equal(mev.reason, "misrouted");
    assert.equal(mev.key, "mev");
    assert.equal(mev.partition, 0);
    assert.equal(mev.expectedPartition, 1);
    assert.match(mev.message, /murmur2/);
    const arb = byId.get("misrouted-arb")!;
    assert.deepEqual([arb.key, arb.partition, arb.expectedPartition], ["arbitrage", 1, 0]);

    const metrics = await (await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    assert.match(metrics, /^mevlab_records_skipped_total\{topic="control-commands",reason="misrouted"\} 2$/m);
    const flagged = logs.filter((l) => /^control-commands\/\d+@\d+ .*misrouted/.test(l));
    assert.equal(flagged.length, 2, logs.join("\n"));
    assert.ok(
      flagged.some((l) => l.startsWith("control-commands/0@") && l.includes('(key "mev")')),
      flagged.join("\n"),
    );
  } finally {
    clearTimeout(timer);
    ws.close();
  }
});
