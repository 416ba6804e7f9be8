/**
 * Whether a bundle lands: the simulation's hidden process, and the hand-written rule the reference
 * agents decide with. docs/simulation.md has the formulas and what the rule gets wrong.
 */

import type { MarketFeatures } from "@mevlab/proto";

export type MarketModule = "arbitrage" | "mev";

/** The features of one opportunity as plain numbers (lamports as numbers). */
export interface FeatureValues {
  tipFloorP25: number;
  tipFloorP50: number;
  tipFloorP75: number;
  tipFloorP95: number;
  /** The chosen tip / the floor's p75. */
  tipRatioP75: number;
  hotpathUs: number;
  competingBundles: number;
  poolLiquidity: number;
  /** Arbitrage: 2-4; mev: 0. */
  routeHops: number;
  /** Mev: victim amount / pool liquidity; arbitrage: 0. */
  victimPoolRatio: number;
  leaderSlotIndex: number;
}

/** An opportunity's `features` as numbers, as a consumer of the stream reads them. */
export function featureValues(m: MarketFeatures): FeatureValues {
  return {
    tipFloorP25: Number(m.tipFloorP25Lamports),
    tipFloorP50: Number(m.tipFloorP50Lamports),
    tipFloorP75: Number(m.tipFloorP75Lamports),
    tipFloorP95: Number(m.tipFloorP95Lamports),
    tipRatioP75: m.tipRatioP75,
    hotpathUs: m.hotpathUs,
    competingBundles: m.competingBundles,
    poolLiquidity: Number(m.poolLiquidityLamports),
    routeHops: m.routeHops,
    victimPoolRatio: m.victimPoolRatio,
    leaderSlotIndex: m.leaderSlotIndex,
  };
}

/** The landing process's parameters (docs/simulation.md). */
export const LANDING = {
  base: { arbitrage: 0.9, mev: 1.1 },
  /** tip: scale · tanh(slope · ln(tip / p75) + offset): steep near p75, little gained past p95. */
  tip: { scale: 2.4, slope: 0.9, offset: 0.5 },
  /** A wide top of the floor (ln(p95 / p75) above its usual 1.5) means the slot's best bidders are far up. */
  spread: { usual: 1.5, weight: 0.5 },
  /** competition: perBundle · n, of which a high tip shields up to `shield`. */
  competition: { perBundle: 0.05, shield: 0.4 },
  /** latency: perLog · max(0, ln(µs / refUs)) · (1 + contested · n): slow decisions lose contested slots. */
  latency: { refUs: 700, perLog: 1.3, contested: 0.05 },
  /** liquidity: weight · tanh(ln(lamports / ref)): a deep pool's price moves less before the bundle lands. */
  liquidity: { refLamports: 1e12, weight: 0.35 },
  /** Each hop past two: one more pool whose state can move. */
  perExtraHop: 0.55,
  /** mev: weight · ln(1 + ratio / ref): a victim large against its pool draws more searchers. */
  victim: { ref: 0.01, weight: 0.7 },
  /** By the slot's place in its leader's window: bundles for a new leader's first slot often arrive late. */
  leaderIndex: [-0.8, 0.15, 0.15, -0.3],
  /** Unobserved per-bundle noise on the log-odds (the slot adds its own shock). */
  noiseSigma: 0.6,
} as const;

/**
 * The landing log-odds that the features explain (without the slot's shock and the bundle's noise).
 * It orders opportunities as well as anything that sees only the features can.
 */
export function trueLandingLogit(f: FeatureValues, module: MarketModule): number {
  const L = LANDING;
  const lnRatio = Math.log(Math.max(f.tipRatioP75, 1e-6));
  const tip = L.tip.scale * Math.tanh(L.tip.slope * lnRatio + L.tip.offset);
  const spread = L.spread.weight * (Math.log(f.tipFloorP95 / f.tipFloorP75) - L.spread.usual);
  const n = f.competingBundles;
  const competition = L.competition.perBundle * n * (1 - L.competition.shield * Math.tanh(lnRatio + 0.5));
  const latency =
    L.latency.perLog * Math.max(0, Math.log(f.hotpathUs / L.latency.refUs)) * (1 + L.latency.contested * n);
  const liquidity = L.liquidity.weight * Math.tanh(Math.log(f.poolLiquidity / L.liquidity.refLamports));
  const hops = L.perExtraHop * Math.max(0, f.routeHops - 2);
  const victim = L.victim.weight * Math.log(1 + f.victimPoolRatio / L.victim.ref);
  const leader = L.leaderIndex[f.leaderSlotIndex & 3];
  return L.base[module] + tip - spread - competition - latency + liquidity - hops - victim + leader;
}

/**
 * How much of the planned gross a landed bundle keeps: the pools move between the decision and the
 * slot. The share lost is sigmoid of this plus noise; the rest is the capture.
 */
export const CAPTURE = {
  base: -1.3,
  /** Per ln(µs / 700): a slow decision finds the pools moved. */
  latency: 1.0,
  perCompetingBundle: 0.06,
  /** Per ln(lamports / 1e12), against: deep pools move less. */
  liquidity: 0.6,
  perExtraHop: 0.3,
  noiseSigma: 0.8,
} as const;

/** The log-odds of the share of the gross that a landed bundle loses, as far as the features tell it. */
export function lossLogit(f: FeatureValues): number {
  const C = CAPTURE;
  return (
    C.base +
    C.latency * Math.log(f.hotpathUs / LANDING.latency.refUs) +
    C.perCompetingBundle * f.competingBundles -
    C.liquidity * Math.log(f.poolLiquidity / LANDING.liquidity.refLamports) +
    C.perExtraHop * Math.max(0, f.routeHops - 2)
  );
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * The reference agents' own estimate, as a hand-written rule would be: linear in the tip's ratio to
 * the floor's median (capped), a little for competition, nothing else. The market looks at p75 and the
 * top of the floor; the rule ignores latency, route length, liquidity, the victim's size and the
 * leader's window, and it is too sure of high tips.
 */
export function heuristicPLand(f: FeatureValues): number {
  const p = 0.2 + 0.15 * Math.min(f.tipRatioP75 * (f.tipFloorP75 / f.tipFloorP50), 5) - 0.01 * f.competingBundles;
  return Math.min(0.97, Math.max(0.03, p));
}
