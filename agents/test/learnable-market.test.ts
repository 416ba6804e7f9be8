// The simulated market has something to learn: a simple model fitted on the agents' history beats
// their built-in p_land_est on later, held-out opportunities, and a seed replays the same market.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ArbOpportunitySchema, MevOpportunitySchema, toBinary } from "@mevlab/proto";
import {
  arbOpportunity,
  featureValues,
  initialRuntime,
  mevOpportunity,
  rng,
  trueLandingLogit,
  type FeatureValues,
  type MarketModule,
} from "../src";
import { auc, fitLogistic, logLoss, predict, type Design } from "./fit";

const ROWS = 100_000;
/** Opportunities per slot: about what one agent sees at --rate 200 (a slot per 100 ms tick). */
const PER_SLOT = 20;
const TRAIN_SHARE = 0.7;

interface History {
  features: FeatureValues[];
  /** The counterfactual label: would it have landed, had it been sent with its tip. */
  landed: Uint8Array;
  heuristic: Float64Array;
  plannedNetSol: Float64Array;
  realisedNetSol: Float64Array;
}

function opportunity(module: MarketModule, r: () => number, slot: bigint, n: number) {
  const rt = initialRuntime(false);
  return module === "arbitrage" ? arbOpportunity(r, "arb-h", slot, n, rt) : mevOpportunity(r, "mev-h", slot, n, rt);
}

/** `rows` opportunities of one agent in time order, as the sink would store them. */
function history(module: MarketModule, seed: number, rows: number): History {
  const r = rng(seed);
  const h: History = {
    features: [],
    landed: new Uint8Array(rows),
    heuristic: new Float64Array(rows),
    plannedNetSol: new Float64Array(rows),
    realisedNetSol: new Float64Array(rows),
  };
  for (let i = 0; i < rows; i++) {
    const o = opportunity(module, r, 358_000_000n + BigInt(Math.floor(i / PER_SLOT)), i);
    h.features.push(featureValues(o.features!));
    h.landed[i] = o.counterfactual!.wouldLand ? 1 : 0;
    h.heuristic[i] = o.decisionMeta!.pLandEst;
    h.plannedNetSol[i] = o.profit!.netSol;
    h.realisedNetSol[i] = Number(o.counterfactual!.netLamportsIfSent) / 1e9;
  }
  return h;
}

/** The columns a quant would try first: logs of the skewed features, the leader's window one-hot. */
function columns(f: FeatureValues): number[] {
  return [
    Math.log(f.tipRatioP75),
    Math.log(f.tipFloorP25),
    Math.log(f.tipFloorP50),
    Math.log(f.tipFloorP75),
    Math.log(f.tipFloorP95),
    Math.log(f.hotpathUs),
    f.competingBundles,
    Math.log(f.poolLiquidity),
    f.routeHops,
    Math.log(f.victimPoolRatio + 1e-4),
    f.leaderSlotIndex === 0 ? 1 : 0,
    f.leaderSlotIndex === 3 ? 1 : 0,
  ];
}

function design(features: readonly FeatureValues[]): Design {
  const cols = columns(features[0]).length;
  const x = new Float64Array(features.length * cols);
  features.forEach((f, i) => x.set(columns(f), i * cols));
  return { rows: features.length, cols, x };
}

/** Realised SOL of the opportunities a policy takes: those whose p · planned net SOL reaches ev_min. */
function realisedSol(p: ArrayLike<number>, h: History, from: number, evMin: number): number {
  let sol = 0;
  for (let i = 0; i < p.length; i++) if (p[i] * h.plannedNetSol[from + i] >= evMin) sol += h.realisedNetSol[from + i];
  return sol;
}

for (const module of ["arbitrage", "mev"] as const) {
  test(`${module}: a logistic regression on the first 70% beats p_land_est on the last 30%`, (t) => {
    const h = history(module, 21, ROWS);
    const split = Math.floor(ROWS * TRAIN_SHARE);
    const model = fitLogistic(design(h.features.slice(0, split)), h.landed.subarray(0, split));
    const p = predict(model, design(h.features.slice(split)));
    const y = h.landed.subarray(split);
    const heuristic = h.heuristic.subarray(split);
    const oracle = h.features.slice(split).map((f) => trueLandingLogit(f, module));
    const evMin = initialRuntime(false).evMin;
    const m = {
      auc: { heuristic: auc(heuristic, y), model: auc(p, y), oracle: auc(oracle, y) },
      logLoss: { heuristic: logLoss(heuristic, y), model: logLoss(p, y) },
      realisedSol: { heuristic: realisedSol(heuristic, h, split, evMin), model: realisedSol(p, h, split, evMin) },
    };
    t.diagnostic(
      `${module}, ${ROWS - split} held-out rows: ${JSON.stringify(m, (_, v) => (typeof v === "number" ? +v.toFixed(4) : v))}`,
    );
    assert.ok(m.auc.model >= m.auc.heuristic + 0.04, `AUC: model ${m.auc.model}, heuristic ${m.auc.heuristic}`);
    assert.ok(m.logLoss.model <= m.logLoss.heuristic - 0.05, `log loss: ${JSON.stringify(m.logLoss)}`);
    assert.ok(
      m.realisedSol.model > m.realisedSol.heuristic,
      `realised SOL at ev_min: ${JSON.stringify(m.realisedSol)}`,
    );
    // Nothing beats the process itself: a model above it would be reading the label.
    assert.ok(m.auc.model <= m.auc.oracle + 0.005, `AUC: model ${m.auc.model}, the process ${m.auc.oracle}`);
  });
}

test("the same seed replays the same market; another seed does not", () => {
  const encode = (module: MarketModule, seed: number) => {
    const r = rng(seed);
    return Array.from({ length: 2_000 }, (_, i) => {
      const o = opportunity(module, r, 358_000_000n + BigInt(i >> 4), i);
      o.ts = 0n; // the wall clock, the one thing a seed does not fix
      return Buffer.from(
        o.$typeName === "mevlab.v1.ArbOpportunity"
          ? toBinary(ArbOpportunitySchema, o)
          : toBinary(MevOpportunitySchema, o),
      );
    });
  };
  for (const module of ["arbitrage", "mev"] as const) {
    assert.deepEqual(encode(module, 5), encode(module, 5), module);
    assert.notDeepEqual(encode(module, 5), encode(module, 6), module);
  }
});

test("every opportunity carries its features and counterfactual; a sent one's outcome is the counterfactual", () => {
  const r = rng(9);
  let sent = 0;
  for (let i = 0; i < 5_000; i++) {
    const o = opportunity(i % 2 ? "mev" : "arbitrage", r, 358_000_000n + BigInt(i >> 4), i);
    const cf = o.counterfactual!;
    assert.ok(o.features && o.features.tipFloorP75Lamports > 0n && o.features.hotpathUs > 0);
    assert.equal(o.features.leaderSlotIndex, Number(o.slot % 4n));
    if (!cf.wouldLand) assert.equal(cf.netLamportsIfSent, 0n, "a bundle that does not land costs nothing");
    assert.equal(o.outcome !== undefined, o.decisionMeta!.accepted);
    if (o.outcome) {
      sent++;
      assert.equal(o.outcome.landed, cf.wouldLand);
    }
  }
  assert.ok(sent > 1_000 && sent < 5_000, `${sent} of 5000 sent`);
});
