import { test } from "node:test";
import assert from "node:assert/strict";
import { AckOutcome, Action, AgentState, ControlCommandSchema, Module, create } from "@mevlab/proto";
import { DedupeWindow, applyCommand, initialRuntime } from "../src";

const NOW = 1_755_310_000_000;

function cmd(
  action: Action,
  args: Record<string, unknown> = {},
  requestId = `r-${Math.random()}`,
  notAfter = NOW + 10_000,
) {
  return create(ControlCommandSchema, {
    module: Module.mev,
    action,
    args,
    requestId,
    notAfter: BigInt(notAfter),
    ts: BigInt(NOW),
  });
}

test("a request id is applied once; a repeat is answered duplicate and changes nothing", () => {
  const rt = initialRuntime(false);
  const seen = new DedupeWindow();
  const c = cmd(Action.throttle, { throttlePct: 30 }, "same");
  assert.equal(applyCommand(rt, c, seen, NOW, "mev").outcome, AckOutcome.applied);
  assert.equal(rt.throttlePct, 30);
  assert.equal(rt.state, AgentState.throttled);
  const again = cmd(Action.throttle, { throttlePct: 90 }, "same");
  assert.equal(applyCommand(rt, again, seen, NOW, "mev").outcome, AckOutcome.duplicate);
  assert.equal(rt.throttlePct, 30);
  assert.equal(rt.commandsApplied, 1n);
});

test("a command past not_after is expired and not applied", () => {
  const rt = initialRuntime(false);
  const d = applyCommand(rt, cmd(Action.stop, {}, "late", NOW - 1), new DedupeWindow(), NOW, "mev");
  assert.equal(d.outcome, AckOutcome.expired);
  assert.equal(rt.state, AgentState.running);
});

test("stop, start, kill and throttle move the state; a rejected command changes nothing", () => {
  const rt = initialRuntime(false);
  const seen = new DedupeWindow();
  applyCommand(rt, cmd(Action.stop), seen, NOW, "mev");
  assert.equal(rt.state, AgentState.stopped);
  applyCommand(rt, cmd(Action.throttle, { throttlePct: 50 }), seen, NOW, "mev");
  assert.equal(rt.state, AgentState.stopped, "throttle does not start a stopped agent");
  applyCommand(rt, cmd(Action.start), seen, NOW, "mev");
  assert.equal(rt.state, AgentState.throttled);
  applyCommand(rt, cmd(Action.kill), seen, NOW, "mev");
  assert.equal(rt.state, AgentState.killed);
  const r = applyCommand(rt, cmd(Action.retry_bundle), seen, NOW, "arbitrage");
  assert.equal(r.outcome, AckOutcome.rejected);
  assert.match(r.reason, /mev module/);
  assert.equal(rt.state, AgentState.killed);
});

test("the dedupe window is bounded and forgets the oldest ids first", () => {
  const w = new DedupeWindow(3);
  for (const id of ["a", "b", "c", "d"]) assert.equal(w.add(id), true);
  assert.equal(w.add("d"), false);
  assert.equal(w.add("a"), true, "a was forgotten");
});

test("an agent refuses invalid arguments with a reason naming the field, whoever sent them", () => {
  const rt = initialRuntime(false);
  const seen = new DedupeWindow();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ throttlePct: 101 }, /throttle_pct must be an integer 0-100/],
    [{ evMin: Number.NaN }, /ev_min must be a finite number >= 0, got NaN/],
    [{ evMin: -1 }, /ev_min/],
    [{ tipLadder: [0.5, 0.4] }, /strictly increasing/],
    [{ tipLadder: [0.5, 1.5] }, /tip_ladder\[1\] must be a number inside \(0, 1\), got 1.5/],
    [{ tipLadder: Array.from({ length: 17 }, (_, i) => (i + 1) / 20) }, /tip_ladder must have 1-16 rungs, got 17/],
  ];
  for (const [args, reason] of cases) {
    const d = applyCommand(rt, cmd(Action.policy, args), seen, NOW, "mev");
    assert.equal(d.outcome, AckOutcome.rejected);
    assert.match(d.reason, reason);
  }
  assert.equal(rt.commandsApplied, 0n, "nothing applied");
  assert.equal(rt.policyVersion, 0n);
});
