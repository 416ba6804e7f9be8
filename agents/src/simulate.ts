/**
 * Simulated opportunities: nothing here touches a chain. The market's process (its features, the hidden
 * landing odds, the agents' own estimate) is documented in docs/simulation.md.
 */
import {
  create,
  ArbOpportunitySchema,
  MevOpportunitySchema,
  type ArbOpportunity,
  type MessageInitShape,
  type MevOpportunity,
} from "@mevlab/proto";
import type { AgentRuntime } from "./state";
import {
  CAPTURE,
  LANDING,
  heuristicPLand,
  lossLogit,
  sigmoid,
  trueLandingLogit,
  type FeatureValues,
} from "./market/landing";
import { logNormal, normal } from "./market/random";
import { slotContext, tipFloorAt, type SlotContext } from "./market/slot";

export { logNormal, rng } from "./market/random";

const DEXES = ["Raydium", "Orca", "Meteora", "PumpSwap"] as const;
const SOL = "So11111111111111111111111111111111111111112";
const VIA = [
  "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", // USDC
  "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCE8BenwNYB", // USDT
  "JUPyiwrYJFskUPiHa7hkeR8VNAc6yimH6wSrk5W7hT2z", // JUP
] as const;
const LAMPORTS_PER_SOL = 1_000_000_000;
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * The most opportunities per second a reference agent simulates (`--rate`). At this rate one agent's
 * 100 ms batch is ~370 KB (arbitrage), more than one bus link frame: the link splits it.
 */
export const MAX_SIMULATED_RATE = 5_000;

/** Medians (µs) of the simulated decision hot path; an arbitrage route takes 20% longer per hop past two. */
export const HOTPATH_US = { arbitrage: 650, mev: 900 } as const;

/** Pool liquidity (lamports): log-normal median and spread; an arbitrage route is as deep as its shallowest pool. */
const POOL = { arbitrage: [2e12, 1.2], mev: [1.5e12, 1.0] } as const;

/** The chosen tip's spread around the floor at its ladder rung, and the most of the gross it may take. */
const TIP_SIGMA = 0.25;
const TIP_MAX_SHARE = 0.9;

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** Five base58 digits per draw (58^5 < 2^32): signatures and keys are most of the hot path's draws. */
function base58(r: () => number, n: number): string {
  let s = "";
  while (s.length < n) {
    let v = Math.floor(r() * 656_356_768);
    for (let k = 0; k < 5 && s.length < n; k++, v = Math.floor(v / 58)) s += B58[v % 58];
  }
  return s;
}

/** What differs between the modules before the tip is chosen. */
interface Setting {
  module: "arbitrage" | "mev";
  ctx: SlotContext;
  poolLiquidity: number;
  routeHops: number;
  victimPoolRatio: number;
  hotpathUs: number;
}

/** The agent's tip: the floor at a rung of its ladder, spread a little, at most a share of the gross. */
function chooseTip(r: () => number, rt: AgentRuntime, ctx: SlotContext, gross: number) {
  const quantile = pick(r, rt.tipLadder);
  const wanted = tipFloorAt(ctx.tipFloor, quantile) * Math.exp(TIP_SIGMA * normal(r));
  return { lamports: BigInt(Math.max(1, Math.round(Math.min(wanted, TIP_MAX_SHARE * gross)))), quantile };
}

function features(s: Setting, tipLamports: bigint): FeatureValues {
  const f = s.ctx.tipFloor;
  return {
    tipFloorP25: Math.round(f.p25),
    tipFloorP50: Math.round(f.p50),
    tipFloorP75: Math.round(f.p75),
    tipFloorP95: Math.round(f.p95),
    tipRatioP75: Number(tipLamports) / Math.round(f.p75),
    hotpathUs: s.hotpathUs,
    competingBundles: s.ctx.competingBundles,
    poolLiquidity: Math.round(s.poolLiquidity),
    routeHops: s.routeHops,
    victimPoolRatio: s.victimPoolRatio,
    leaderSlotIndex: s.ctx.leaderSlotIndex,
  };
}

function featureMessage(f: FeatureValues) {
  return {
    tipFloorP25Lamports: BigInt(f.tipFloorP25),
    tipFloorP50Lamports: BigInt(f.tipFloorP50),
    tipFloorP75Lamports: BigInt(f.tipFloorP75),
    tipFloorP95Lamports: BigInt(f.tipFloorP95),
    tipRatioP75: f.tipRatioP75,
    hotpathUs: f.hotpathUs,
    competingBundles: f.competingBundles,
    poolLiquidityLamports: BigInt(f.poolLiquidity),
    routeHops: f.routeHops,
    victimPoolRatio: f.victimPoolRatio,
    leaderSlotIndex: f.leaderSlotIndex,
  };
}

/**
 * Profit, tip, the agent's decision under its policy (EV of its own estimate against ev_min), and what
 * the market would do with the bundle: drawn for every opportunity, sent or not.
 */
function economics(r: () => number, rt: AgentRuntime, s: Setting, bundleId: string, slot: bigint) {
  const gross = BigInt(Math.round(200_000 + r() * 5_000_000));
  const fees = 5_000n + BigInt(Math.round(r() * 10_000));
  const tip = chooseTip(r, rt, s.ctx, Number(gross));
  const net = gross - fees - tip.lamports;
  const netSol = Number(net) / LAMPORTS_PER_SOL;
  const f = features(s, tip.lamports);
  const pLandEst = heuristicPLand(f);
  const accepted = netSol * pLandEst >= rt.evMin;
  const logit = trueLandingLogit(f, s.module) + s.ctx.shock + LANDING.noiseSigma * normal(r);
  const wouldLand = r() < sigmoid(logit);
  const capture = 1 - sigmoid(lossLogit(f) + CAPTURE.noiseSigma * normal(r));
  // Landed: what the pools still paid, less fees and the tip (both fixed when it was sent); else nothing.
  const realised = BigInt(Math.round(Number(gross) * capture)) - fees - tip.lamports;
  return {
    profit: { grossLamports: gross, feesLamports: fees, tipLamports: tip.lamports, netLamports: net, netSol },
    decisionMeta: {
      pLandEst,
      evSol: netSol * pLandEst,
      tipPolicy: { ladder: rt.tipLadder, quantile: tip.quantile, tipLamports: tip.lamports },
      policyVersion: rt.policyVersion,
      accepted,
    },
    features: featureMessage(f),
    counterfactual: { wouldLand, netLamportsIfSent: wouldLand ? realised : 0n },
    outcome: accepted
      ? { bundleId, landed: wouldLand, landedSlot: wouldLand ? slot + 1n : 0n, tipLamports: tip.lamports }
      : undefined,
  };
}

/** 2 hops most often, up to 4. */
function drawHops(r: () => number): number {
  const u = r();
  return u < 0.55 ? 2 : u < 0.85 ? 3 : 4;
}

/** SOL → USDC/USDT/JUP… → SOL, the last hop returning the gross profit. */
function route(r: () => number, hops: number, amountIn: bigint, grossLamports: bigint) {
  const via: string[] = [...VIA];
  // The first hops - 1 of a partial Fisher-Yates shuffle: distinct mints in between.
  for (let i = 0; i < hops - 1; i++) {
    const j = i + Math.floor(r() * (via.length - i));
    [via[i], via[j]] = [via[j], via[i]];
  }
  via.length = hops - 1;
  const mints = [SOL, ...via, SOL];
  const mid = (amountIn * 155n) / 1000n;
  return via.concat(SOL).map((outMint, i) => ({
    dex: pick(r, DEXES),
    pool: base58(r, 44),
    inMint: mints[i],
    outMint,
    amountIn: i === 0 ? amountIn : mid,
    amountOut: i === hops - 1 ? amountIn + grossLamports : mid,
  }));
}

export function arbOpportunity(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): ArbOpportunity {
  const hops = drawHops(r);
  const [median, sigma] = POOL.arbitrage;
  let poolLiquidity = Infinity;
  for (let i = 0; i < hops; i++) poolLiquidity = Math.min(poolLiquidity, logNormal(r, median, sigma));
  const setting: Setting = {
    module: "arbitrage",
    ctx: slotContext(slot),
    poolLiquidity,
    routeHops: hops,
    victimPoolRatio: 0,
    hotpathUs: logNormal(r, HOTPATH_US.arbitrage * (1 + 0.2 * (hops - 2)), 0.45),
  };
  const e = economics(r, rt, setting, `b-${agentId}-${n}`, slot);
  const amountIn = BigInt(Math.round((0.5 + r() * 20) * LAMPORTS_PER_SOL));
  const init: MessageInitShape<typeof ArbOpportunitySchema> = {
    schemaVersion: 1,
    version: "sota-1",
    ts: BigInt(Date.now()),
    id: `arb-${slot}-${n}`,
    agentId,
    slot,
    txSignature: base58(r, 88),
    route: route(r, hops, amountIn, e.profit.grossLamports),
    ...e,
  };
  return create(ArbOpportunitySchema, init);
}

export function mevOpportunity(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): MevOpportunity {
  const poolLiquidity = logNormal(r, ...POOL.mev);
  const victimAmountIn = BigInt(Math.round((1 + r() * 50) * LAMPORTS_PER_SOL));
  const setting: Setting = {
    module: "mev",
    ctx: slotContext(slot),
    poolLiquidity,
    routeHops: 0,
    victimPoolRatio: Number(victimAmountIn) / Math.round(poolLiquidity),
    hotpathUs: logNormal(r, HOTPATH_US.mev, 0.45),
  };
  const e = economics(r, rt, setting, `b-${agentId}-${n}`, slot);
  return create(MevOpportunitySchema, {
    schemaVersion: 1,
    version: "sota-1",
    ts: BigInt(Date.now()),
    id: `mev-${slot}-${n}`,
    agentId,
    slot,
    attacker: base58(r, 44),
    victimTx: base58(r, 88),
    dex: pick(r, DEXES),
    pool: base58(r, 44),
    victimAmountIn,
    frontrunAmountIn: BigInt(Math.round((0.5 + r() * 10) * LAMPORTS_PER_SOL)),
    ...e,
  });
}
