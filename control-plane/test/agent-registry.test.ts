// The agents' view tells a restarted agent's run apart from the one before it: the fault test read
// the killed run's last heartbeat (with the state of later acks merged in) as the restarted agent's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { AckOutcome, AgentState, AgentStatusSchema, ControlAckSchema, Module } from "@mevlab/proto";
import { AgentRegistry } from "../src/agents/registry";

const heartbeat = (bootId: string, startedAt: number, applied: bigint, throttlePct: number) =>
  create(AgentStatusSchema, {
    schemaVersion: 1,
    agentId: "mev-1",
    module: Module.mev,
    state: throttlePct > 0 ? AgentState.throttled : AgentState.running,
    throttlePct,
    commandsApplied: applied,
    startedAt: BigInt(startedAt),
    bootId,
  });

test("a view shows which run of the agent it comes from; acks change its state, not its run or count", () => {
  const registry = new AgentRegistry();
  registry.update(heartbeat("run-a", 1_000, 1000n, 0));
  registry.applyAck(
    create(ControlAckSchema, {
      agentId: "mev-1",
      outcome: AckOutcome.applied,
      state: AgentState.throttled,
      throttlePct: 13,
    }),
  );
  let [view] = registry.list();
  assert.equal(view.throttle_pct, 13);
  assert.equal(view.boot_id, "run-a", "the ack's state sits on the last heartbeat of run a");
  assert.equal(view.commands_applied, "1000", "that heartbeat's count: from before the ack");
  assert.equal(view.started_at, 1_000);
  registry.update(heartbeat("run-b", 5_000, 1001n, 13));
  [view] = registry.list();
  assert.equal(view.boot_id, "run-b");
  assert.equal(view.started_at, 5_000);
  assert.equal(view.commands_applied, "1001");
});
