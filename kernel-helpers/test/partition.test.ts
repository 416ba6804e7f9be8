import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Partitioners } from "kafkajs";
import { murmur2, partitionOfKey } from "../src/bus/partition";

test("murmur2 gives the Java client's values (Kafka's UtilsTest)", () => {
  const cases: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ];
  for (const [key, hash] of cases) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

test("the module keys: mev on partition 1 and arbitrage on 0 of control-commands' 2", () => {
  assert.equal(partitionOfKey("mev", 2), 1);
  assert.equal(partitionOfKey("arbitrage", 2), 0);
});

test("partitionOfKey picks the partition kafkajs' DefaultPartitioner picks", () => {
  const partitioner = Partitioners.DefaultPartitioner();
  const keys: (string | Buffer)[] = [
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "mev",
    "arbitrage",
    "agent-7",
    "é ü ✓ 🚀",
    "slot-358000001",
  ];
  for (let i = 0; i < 200; i++) keys.push(randomBytes(i % 23));
  for (const partitions of [1, 2, 3, 7, 100]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
      partitionErrorCode: 0,
    }));
    for (const key of keys) {
      const expected = partitioner({ topic: "t", partitionMetadata, message: { key, value: null } });
      const got = partitionOfKey(typeof key === "string" ? key : new Uint8Array(key), partitions);
      assert.equal(got, expected, `${JSON.stringify(key)} over ${partitions}`);
    }
  }
});

test("partitionOfKey refuses a partition count below 1", () => {
  assert.throws(() => partitionOfKey("mev", 0), RangeError);
});
