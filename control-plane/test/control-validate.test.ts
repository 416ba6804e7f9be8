// What the control schemas cannot say, checked without a server: a target's parts, a ladder's order,
// throttle's percentage, a policy update with something in it, u64 lamports. bad-input.test.ts covers
// the same rules over HTTP; these pin the boundaries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Action, Module } from "@mevlab/proto";
import { HttpError } from "../src/http/errors";
import { SchemaError } from "../src/http/validation";
import {
  bundleRetryArgs,
  controlArgs,
  parseTarget,
  policyChangesOf,
  policyUpdate,
  targetError,
} from "../src/control/validate";

const U64_MAX = 18_446_744_073_709_551_615n;

function badRequest(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpError, `an HttpError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.code, "bad_request");
    assert.match(err.message, message);
    return true;
  });
}

test("parseTarget splits {module}:{action} into the proto enums", () => {
  assert.deepEqual(parseTarget("mev:throttle"), { module: Module.mev, moduleName: "mev", action: Action.throttle });
  assert.deepEqual(parseTarget("arbitrage:kill"), {
    module: Module.arbitrage,
    moduleName: "arbitrage",
    action: Action.kill,
  });
});

test("targetError names the part of a path that is wrong", () => {
  const err = (data: string) => targetError([{ data } as never]);
  const cases: Array<[string, string, string]> = [
    ["mevthrottle", "not_found", "expected /api/control/module/{name}:{action}, got 'mevthrottle'"],
    ["", "not_found", "expected /api/control/module/{name}:{action}, got ''"],
    ["sandwich:start", "unknown_module", "unknown module 'sandwich': expected one of arbitrage, mev"],
    [":start", "unknown_module", "unknown module '': expected one of arbitrage, mev"],
    ["MEV:start", "unknown_module", "unknown module 'MEV': expected one of arbitrage, mev"],
    ["mev:fly", "unknown_action", "unknown action 'fly': expected one of start, stop, restart, throttle, policy, kill"],
    ["mev:", "unknown_action", "unknown action '': expected one of start, stop, restart, throttle, policy, kill"],
  ];
  for (const [data, code, message] of cases) {
    const e = err(data);
    assert.ok(e instanceof SchemaError);
    assert.deepEqual([e.code, e.message], [code, message], data);
  }
});

test("tip ladders must increase strictly, from above 0", () => {
  for (const [ladder, message] of [
    [[0.5, 0.5], /^tip_ladder must be strictly increasing: tip_ladder\[1\] = 0\.5 follows 0\.5$/],
    [[0.2, 0.7, 0.6], /tip_ladder\[2\] = 0\.6 follows 0\.7$/],
    [[0], /tip_ladder\[0\] = 0 follows 0$/],
    [[-0.1], /tip_ladder\[0\] = -0\.1 follows 0$/],
  ] as const) {
    badRequest(() => controlArgs({ tip_ladder: [...ladder] }, Action.policy), message);
    badRequest(() => policyUpdate({ module: "mev", tip_ladder: [...ladder] }), message);
  }
  assert.deepEqual(controlArgs({ tip_ladder: [0.1, 0.5, 0.99] }, Action.policy).tipLadder, [0.1, 0.5, 0.99]);
});

test("controlArgs: throttle needs throttle_pct, other actions need nothing", () => {
  badRequest(() => controlArgs({}, Action.throttle), /^throttle needs throttle_pct \(an integer 0-100\)$/);
  badRequest(() => controlArgs({ ev_min: 1 }, Action.throttle), /^throttle needs throttle_pct/);
  assert.equal(controlArgs({ throttle_pct: 0 }, Action.throttle).throttlePct, 0);
  const args = controlArgs({}, Action.start);
  assert.deepEqual([args.throttlePct, args.evMin, args.tipLadder, args.kill], [undefined, undefined, [], undefined]);
  const full = controlArgs({ throttle_pct: 40, ev_min: 0.01, tip_ladder: [0.5], kill: true }, Action.policy);
  assert.deepEqual(policyChangesOf(full), { throttlePct: 40, evMin: 0.01, tipLadder: [0.5], kill: true });
  // an empty ladder is no change, not an empty ladder
  assert.equal(policyChangesOf(controlArgs({ kill: false }, Action.policy)).tipLadder, undefined);
  assert.equal(policyChangesOf(controlArgs({ kill: false }, Action.policy)).kill, false);
});

test("policyUpdate needs at least one change; a reason alone is not one", () => {
  for (const body of [{ module: "mev" }, { module: "mev", reason: "because" }] as const) {
    badRequest(
      () => policyUpdate(body),
      /^nothing to change: give at least one of throttle_pct, ev_min, tip_ladder, kill, model_id$/,
    );
  }
  assert.deepEqual(policyUpdate({ module: "arbitrage", model_id: "m-7" }), {
    module: Module.arbitrage,
    changes: { throttlePct: undefined, evMin: undefined, tipLadder: undefined, kill: undefined, modelId: "m-7" },
    reason: "",
  });
  const kill = policyUpdate({ module: "mev", kill: false, reason: "resume" });
  assert.deepEqual([kill.module, kill.changes.kill, kill.reason], [Module.mev, false, "resume"]);
  assert.equal(policyUpdate({ module: "mev", throttle_pct: 0 }).changes.throttlePct, 0);
});

test("bundleRetryArgs: lamports as an integer or a decimal string, 1 to 2^64-1", () => {
  const tip = (t: number | string) => bundleRetryArgs({ bundle_id: "b1", tip_lamports: t });
  assert.equal(tip(1).tipLamports, 1n);
  assert.equal(tip("5000").tipLamports, 5000n);
  assert.equal(tip(U64_MAX.toString()).tipLamports, U64_MAX);
  assert.equal(tip(1).bundleId, "b1");
  for (const t of [0, "0", -1, "-5", (U64_MAX + 1n).toString()]) {
    badRequest(
      () => tip(t),
      new RegExp(`^tip_lamports must be a positive integer of lamports, got ${JSON.stringify(t)}$`),
    );
  }
});
