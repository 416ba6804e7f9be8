import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalBus, publishMessages, subscribeMessages } from "@mevlab/kernel-helpers";
import {
  AckOutcome,
  Action,
  AgentState,
  ControlCommandSchema,
  Module,
  TOPICS,
  create,
  type ControlAck,
} from "@mevlab/proto";
import { Agent } from "../src";
import { signed, TRUST, AGENT_KEY } from "./keys";
import { waitFor } from "./wait";

test("a kill queued behind other commands is applied before them", async () => {
  const bus = new LocalBus();
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
    const now = BigInt(Date.now());
    const cmd = (action: Action, i: number, args = {}) => ({
      key: "mev",
      message: signed(
        create(ControlCommandSchema, {
          module: Module.mev,
          action,
          args,
          requestId: `r-${i}`,
          ts: now,
          notAfter: now + 10_000n,
        }),
      ),
    });
    // One command first, so the agent is busy while the rest queue up behind it.
    await publishMessages(bus, TOPICS.controlCommands, [cmd(Action.throttle, 0, { throttlePct: 1 })]);
    const queued = Array.from({ length: 40 }, (_, i) => cmd(Action.throttle, i + 1, { throttlePct: (i % 99) + 1 }));
    await publishMessages(bus, TOPICS.controlCommands, [...queued, cmd(Action.kill, 99)]);
    await waitFor("42 acks", () => acks.length >= 42, 30_000);
    const order = acks.map((a) => a.requestId);
    assert.equal(order[0], "r-0");
    assert.equal(order[1], "r-99", "the kill is acked right after the command in progress");
    assert.equal(acks[1].state, AgentState.killed);
    assert.ok(acks.every((a) => a.outcome === AckOutcome.applied));
    assert.equal(agent.runtime.state, AgentState.killed, "throttles after the kill do not revive the agent");
  } finally {
    await agent.stop();
    await bus.close();
  }
});
