// The shadow comparison's arithmetic on hand-made opportunities: counts, hit rates, counterfactual SOL,
// Brier, agreement, the windows' edges, a new (live, shadow) pair starting from nothing, and the
// message the `shadow` stream carries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArbOpportunitySchema, Module, create } from "@mevlab/proto";
import { ShadowTracker, shadowMessage } from "../src/policy/shadow";

const opp = (o: {
  p: number;
  sp: number;
  acc: boolean;
  sacc: boolean;
  land: boolean;
  net: number;
  live?: string;
  shadow?: string;
}) =>
  create(ArbOpportunitySchema, {
    decisionMeta: {
      modelId: o.live ?? "L",
      pLandEst: o.p,
      accepted: o.acc,
      shadowModelId: o.shadow ?? "S",
      shadowPLandEst: o.sp,
      shadowAccepted: o.sacc,
    },
    counterfactual: { wouldLand: o.land, netLamportsIfSent: BigInt(o.net) },
  });

test("counts, hit rates, counterfactual SOL, Brier and agreement per window; a new pair starts from nothing", () => {
  let now = 1_000_000;
  const t = new ShadowTracker(() => now);
  t.observe("arbitrage", opp({ p: 0.9, sp: 0.8, acc: true, sacc: true, land: true, net: 2e9 }));
  t.observe("arbitrage", opp({ p: 0.6, sp: 0.1, acc: true, sacc: false, land: false, net: 0 }));
  t.observe("arbitrage", opp({ p: 0.2, sp: 0.7, acc: false, sacc: true, land: true, net: -1e9 }));
  t.observe("arbitrage", create(ArbOpportunitySchema, { decisionMeta: { modelId: "L", pLandEst: 0.5 } })); // no shadow: ignored
  now += 100_000; // 100 s later: out of the 60 s window, inside the 600 s one
  t.observe("arbitrage", opp({ p: 0.5, sp: 0.5, acc: false, sacc: false, land: false, net: 0 }));

  const v = t.view("arbitrage", "S");
  assert.deepEqual([v.active, v.live_model_id, v.shadow_model_id], [true, "L", "S"]);
  const [w60, w600] = v.windows;
  assert.equal(w60.opportunities, 1);
  assert.equal(w600.opportunities, 4);
  assert.deepEqual([w600.live.accepted, w600.shadow.accepted], [2, 2]);
  assert.deepEqual([w600.live.hit_rate, w600.shadow.hit_rate], [0.5, 1]);
  assert.deepEqual([w600.live.ev_sol, w600.shadow.ev_sol, w600.ev_delta_sol], [2, 1, -1]);
  assert.equal(w600.landed_rate, 0.5);
  assert.equal(w600.agreement, 0.5);
  const brier = (ps: number[], ys: number[]) => ps.reduce((a, p, i) => a + (p - ys[i]) ** 2, 0) / ps.length;
  assert.ok(Math.abs(w600.live.brier! - brier([0.9, 0.6, 0.2, 0.5], [1, 0, 1, 0])) < 1e-12);
  assert.ok(Math.abs(w600.shadow.mean_p! - (0.8 + 0.1 + 0.7 + 0.5) / 4) < 1e-12);

  t.observe("arbitrage", opp({ p: 0.5, sp: 0.5, acc: true, sacc: true, land: true, net: 5, shadow: "S2" }));
  const next = t.view("arbitrage", "S2");
  assert.deepEqual([next.shadow_model_id, next.windows[1].opportunities], ["S2", 1]);
  assert.equal(t.view("arbitrage", "S").active, false, "the view of a shadow no longer deployed is inactive");
  assert.deepEqual(t.view("mev", undefined).windows[0].live.hit_rate, null, "no data: null, not 0");

  const m = shadowMessage(next, now);
  assert.equal(m.module, Module.arbitrage);
  assert.equal(m.windows[1].opportunities, 1n);
  assert.equal(m.windows[1].shadow?.hitRate, 1);
  assert.equal(shadowMessage(t.view("mev", undefined)).windows[0].live?.hitRate, undefined);
});

test("after 20 minutes of one opportunity a second, the windows hold the last 60 and 600", () => {
  let now = 0;
  const t = new ShadowTracker(() => now);
  for (let s = 0; s < 1_200; s++) {
    now = s * 1000;
    t.observe("mev", opp({ p: 0.5, sp: 0.5, acc: true, sacc: true, land: true, net: 1 }));
  }
  assert.equal(t.view("mev", "S").windows[1].opportunities, 600);
  assert.equal(t.view("mev", "S").windows[0].opportunities, 60);
});
