// An agent refuses a record whose mevlab-schema-version names a major it does not read: a command of
// schema 2 is not applied and not acked, and a policy of schema 2 is not recovered; both are counted
// and logged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalBus, signPolicy, subscribeMessages } from "@mevlab/kernel-helpers";
import {
  Action,
  ControlCommandSchema,
  Module,
  PolicySchema,
  SCHEMA_VERSION_HEADER,
  TOPICS,
  create,
  encode,
  type ControlAck,
} from "@mevlab/proto";
import { Agent } from "../src";
import { signed, TEST_KEY, TRUST, AGENT_KEY } from "./keys";
import { waitFor } from "./wait";

const version = (v: string) => ({ [SCHEMA_VERSION_HEADER]: v });

function throttle(requestId: string, throttlePct: number): Uint8Array {
  const now = BigInt(Date.now());
  return encode(
    ControlCommandSchema,
    signed(
      create(ControlCommandSchema, {
        module: Module.mev,
        action: Action.throttle,
        args: { throttlePct },
        requestId,
        ts: now,
        notAfter: now + 60_000n,
      }),
    ),
  );
}

test("a command of an unknown schema major is not applied nor acked; it is counted and logged", async () => {
  const bus = new LocalBus();
  const lines: string[] = [];
  const agent = new Agent({
    module: "mev",
    agentId: "mev-1",
    trust: TRUST,
    agentKey: AGENT_KEY,
    bus,
    rate: 0,
    log: (l) => void lines.push(l),
  });
  try {
    await agent.start();
    const acks: ControlAck[] = [];
    await subscribeMessages(bus, TOPICS.controlAcks, { group: "test" }, (ack) => void acks.push(ack));
    await bus.publish(TOPICS.controlCommands.name, [
      { key: "mev", value: throttle("r-v2", 77), headers: version("2") },
      // No header: taken as the current version.
      { key: "mev", value: throttle("r-none", 5) },
      { key: "mev", value: throttle("r-v1", 10), headers: version("1") },
    ]);
    // Delivered in order: once the last is acked, the agent has looked at the first.
    await waitFor("the ack of r-v1", () => acks.some((a) => a.requestId === "r-v1"));
    assert.deepEqual(
      acks.map((a) => a.requestId),
      ["r-none", "r-v1"],
    );
    assert.equal(agent.appliedCount, 2);
    assert.equal(agent.runtime.throttlePct, 10);
    assert.deepEqual(agent.skipped.entries(), [
      { topic: TOPICS.controlCommands.name, reason: "schema_version", count: 1n },
    ]);
    assert.ok(
      lines.some((l) => /control-commands@\d+: schema version "2" is not one this code reads/.test(l)),
      lines.join("\n"),
    );
  } finally {
    await agent.stop();
    await bus.close();
  }
});

test("a policy of an unknown schema major is not recovered at start: the latest readable one is", async () => {
  const bus = new LocalBus();
  const lines: string[] = [];
  const policy = (v: bigint, throttlePct: number) =>
    encode(
      PolicySchema,
      signPolicy(create(PolicySchema, { module: Module.mev, version: v, evMin: 0.001, throttlePct }), TEST_KEY),
    );
  await bus.publish(TOPICS.policies.name, [
    { key: "mev", value: policy(3n, 30), headers: version("1") },
    { key: "mev", value: policy(4n, 40), headers: version("2") },
  ]);
  const agent = new Agent({
    module: "mev",
    agentId: "mev-1",
    trust: TRUST,
    agentKey: AGENT_KEY,
    bus,
    rate: 0,
    log: (l) => void lines.push(l),
  });
  try {
    await agent.start();
    assert.equal(agent.runtime.policyVersion, 3n);
    assert.equal(agent.runtime.throttlePct, 30);
    assert.deepEqual(agent.skipped.entries(), [{ topic: TOPICS.policies.name, reason: "schema_version", count: 1n }]);
    assert.ok(
      lines.some((l) => /policies@\d+: schema version "2"/.test(l)),
      lines.join("\n"),
    );
  } finally {
    await agent.stop();
    await bus.close();
  }
});
