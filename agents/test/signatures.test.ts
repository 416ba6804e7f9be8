import { test } from "node:test";
import assert from "node:assert/strict";
import {
  LocalBus,
  publishMessages,
  signCommand,
  signPolicy,
  signingKey,
  subscribeMessages,
} from "@mevlab/kernel-helpers";
import {
  AckOutcome,
  Action,
  ControlCommandSchema,
  Module,
  PolicySchema,
  TOPICS,
  create,
  type ControlAck,
  type ControlCommand,
} from "@mevlab/proto";
import { Agent } from "../src";
import { TEST_KEY, TRUST, signed, AGENT_KEY } from "./keys";
import { waitFor } from "./wait";

const throttle = (requestId: string, throttlePct: number, notAfter = BigInt(Date.now() + 60_000)) =>
  create(ControlCommandSchema, {
    schemaVersion: 1,
    module: Module.mev,
    action: Action.throttle,
    args: { throttlePct },
    requestId,
    ts: BigInt(Date.now()),
    notAfter,
  });

async function withAgent(bus: LocalBus, fn: (agent: Agent, acks: ControlAck[]) => Promise<void>): Promise<void> {
  const agent = new Agent({
    module: "mev",
    agentId: "mev-1",
    trust: TRUST,
    agentKey: AGENT_KEY,
    bus,
    rate: 0,
    log: () => undefined,
  });
  try {
    await agent.start();
    const acks: ControlAck[] = [];
    await subscribeMessages(bus, TOPICS.controlAcks, { group: "test" }, (ack) => void acks.push(ack));
    await fn(agent, acks);
  } finally {
    await agent.stop();
    await bus.close();
  }
}

const send = (bus: LocalBus, ...cmds: ControlCommand[]) =>
  publishMessages(
    bus,
    TOPICS.controlCommands,
    cmds.map((message) => ({ key: "mev", message })),
  );

test("an agent applies only commands the control plane signed; each refusal is a rejected ack naming why", async () => {
  const bus = new LocalBus();
  await withAgent(bus, async (agent, acks) => {
    const tampered = signed(throttle("r-tampered", 10));
    tampered.args!.throttlePct = 100;
    const stranger = signCommand(throttle("r-stranger", 20), signingKey());
    await send(bus, throttle("r-unsigned", 30), tampered, stranger, signed(throttle("r-forever", 40, 0n)));
    await waitFor("four acks", () => acks.length >= 4);
    assert.deepEqual(
      acks.map((a) => [a.requestId, AckOutcome[a.outcome], a.reason.replace(/'[0-9a-f]{16}'/, "'<id>'")]),
      [
        ["r-unsigned", "rejected", "command is not signed"],
        ["r-tampered", "rejected", "command signature is invalid"],
        ["r-stranger", "rejected", "command is signed by unknown key '<id>'"],
        ["r-forever", "rejected", "not_after is 0: a command must expire"],
      ],
    );
    assert.equal(agent.runtime.throttlePct, 0, "nothing was applied");
    assert.equal(agent.appliedCount, 0);
  });
});

test("a forged command does not spend the request id of the real one", async () => {
  const bus = new LocalBus();
  await withAgent(bus, async (agent, acks) => {
    await send(bus, throttle("r-1", 99), signed(throttle("r-1", 7)));
    await waitFor("two acks", () => acks.length >= 2);
    assert.deepEqual(
      acks.map((a) => AckOutcome[a.outcome]),
      ["rejected", "applied"],
    );
    assert.equal(agent.runtime.throttlePct, 7);
  });
});

test("a policy command is applied only when the policy inside is signed too", async () => {
  const bus = new LocalBus();
  await withAgent(bus, async (agent, acks) => {
    const policy = (version: bigint) =>
      create(PolicySchema, { schemaVersion: 1, module: Module.mev, version, evMin: 0.01, tipLadder: [0.5] });
    const command = (requestId: string, p = policy(1n)) =>
      create(ControlCommandSchema, {
        module: Module.mev,
        action: Action.policy,
        args: { policy: p },
        requestId,
        notAfter: BigInt(Date.now() + 60_000),
      });
    await send(
      bus,
      signed(command("r-unsigned-policy", policy(2n ** 62n))),
      signed(command("r-ok", signPolicy(policy(1n), TEST_KEY))),
    );
    await waitFor("two acks", () => acks.length >= 2);
    assert.deepEqual(
      acks.map((a) => [AckOutcome[a.outcome], a.reason]),
      [
        ["rejected", "policy is not signed"],
        ["applied", ""],
      ],
    );
    assert.equal(agent.runtime.policyVersion, 1n);
  });
});

test("at start, a forged policy on the compacted topic is ignored and the latest signed one is recovered", async () => {
  const bus = new LocalBus();
  const policy = (version: bigint, throttlePct: number) =>
    create(PolicySchema, { schemaVersion: 1, module: Module.mev, version, throttlePct, tipLadder: [0.5] });
  await publishMessages(bus, TOPICS.policies, [
    { key: "mev", message: signPolicy(policy(3n, 30), TEST_KEY) },
    { key: "mev", message: policy(2n ** 62n, 0) },
    { key: "mev", message: signPolicy(policy(2n ** 61n, 0), signingKey()) },
  ]);
  await withAgent(bus, async (agent) => {
    assert.equal(agent.runtime.policyVersion, 3n);
    assert.equal(agent.runtime.throttlePct, 30);
  });
});
