/**
 * Simulated opportunities: nothing here touches a chain. The market's process (its features, the hidden
 * landing odds, the agents' own estimate) is documented in docs/simulation.md.
 */
import {
  create,
  ArbOpportunitySchema,
  MevOpportunitySchema,
  type ArbOpportunity,
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

/** What the agent's decision reads of an opportunity: its features and sizes, all drawn before it decides. */
export interface ModelInputs {
  f: FeatureValues;
  tipLamports: number;
  grossLamports: number;
  feesLamports: number;
  /** The built-in rule's estimate (a feature of the `extended` sets). */
  heuristic: number;
  amountIn: number;
  victimAmountIn: number;
  frontrunAmountIn: number;
}

/** An estimate of the landing probability and the model that made it ("" = the built-in rule). */
export interface Estimate {
  pLand: number;
  modelId: string;
}

/**
 * Profit, tip and what the market would do with the bundle: drawn for every opportunity, sent or not,
 * before the agent decides (so the random stream does not depend on how it estimates).
 */
function drawEconomics(r: () => number, rt: AgentRuntime, s: Setting) {
  const gross = BigInt(Math.round(200_000 + r() * 5_000_000));
  const fees = 5_000n + BigInt(Math.round(r() * 10_000));
  const tip = chooseTip(r, rt, s.ctx, Number(gross));
  const f = features(s, tip.lamports);
  const logit = trueLandingLogit(f, s.module) + s.ctx.shock + LANDING.noiseSigma * normal(r);
  const wouldLand = r() < sigmoid(logit);
  const capture = 1 - sigmoid(lossLogit(f) + CAPTURE.noiseSigma * normal(r));
  // Landed: what the pools still paid, less fees and the tip (both fixed when it was sent); else nothing.
  const realised = BigInt(Math.round(Number(gross) * capture)) - fees - tip.lamports;
  return { gross, fees, tip, f, wouldLand, realised, heuristic: heuristicPLand(f) };
}

type Economics = ReturnType<typeof drawEconomics>;

/** The decision under the policy (EV of the estimate against ev_min) and the messages it shapes. */
function decide(
  e: Economics,
  rt: AgentRuntime,
  live: Estimate,
  shadow: Estimate | undefined,
  ids: { bundleId: string; slot: bigint },
) {
  const net = e.gross - e.fees - e.tip.lamports;
  const netSol = Number(net) / LAMPORTS_PER_SOL;
  const accepted = netSol * live.pLand >= rt.evMin;
  return {
    profit: { grossLamports: e.gross, feesLamports: e.fees, tipLamports: e.tip.lamports, netLamports: net, netSol },
    decisionMeta: {
      pLandEst: live.pLand,
      evSol: netSol * live.pLand,
      tipPolicy: { ladder: rt.tipLadder, quantile: e.tip.quantile, tipLamports: e.tip.lamports },
      policyVersion: rt.policyVersion,
      modelId: live.modelId,
      accepted,
      ...(shadow && {
        shadowModelId: shadow.modelId,
        shadowPLandEst: shadow.pLand,
        shadowAccepted: netSol * shadow.pLand >= (rt.shadow?.evMin ?? rt.evMin),
      }),
    },
    features: featureMessage(e.f),
    counterfactual: { wouldLand: e.wouldLand, netLamportsIfSent: e.wouldLand ? e.realised : 0n },
    outcome: accepted
      ? {
          bundleId: ids.bundleId,
          landed: e.wouldLand,
          landedSlot: e.wouldLand ? ids.slot + 1n : 0n,
          tipLamports: e.tip.lamports,
        }
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

/**
 * One opportunity with everything drawn and nothing decided: `inputs` is what an estimate reads,
 * `complete` decides with the live (and shadow) estimate and builds the message.
 */
export interface Draft<M> {
  inputs: ModelInputs;
  complete(live: Estimate, shadow?: Estimate): M;
}

function inputsOf(e: Economics, sizes: Partial<Pick<ModelInputs, "amountIn" | "victimAmountIn" | "frontrunAmountIn">>) {
  return {
    f: e.f,
    tipLamports: Number(e.tip.lamports),
    grossLamports: Number(e.gross),
    feesLamports: Number(e.fees),
    heuristic: e.heuristic,
    amountIn: sizes.amountIn ?? 0,
    victimAmountIn: sizes.victimAmountIn ?? 0,
    frontrunAmountIn: sizes.frontrunAmountIn ?? 0,
  };
}

export function arbDraft(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): Draft<ArbOpportunity> {
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
  const e = drawEconomics(r, rt, setting);
  const amountIn = BigInt(Math.round((0.5 + r() * 20) * LAMPORTS_PER_SOL));
  const txSignature = base58(r, 88);
  const hopsOut = route(r, hops, amountIn, e.gross);
  const ts = BigInt(Date.now());
  return {
    inputs: inputsOf(e, { amountIn: Number(amountIn) }),
    complete: (live, shadow) =>
      create(ArbOpportunitySchema, {
        schemaVersion: 1,
        version: "sota-1",
        ts,
        id: `arb-${slot}-${n}`,
        agentId,
        slot,
        txSignature,
        route: hopsOut,
        ...decide(e, rt, live, shadow, { bundleId: `b-${agentId}-${n}`, slot }),
      }),
  };
}

export function mevDraft(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): Draft<MevOpportunity> {
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
  const e = drawEconomics(r, rt, setting);
  const attacker = base58(r, 44);
  const victimTx = base58(r, 88);
  const dex = pick(r, DEXES);
  const pool = base58(r, 44);
  const frontrunAmountIn = BigInt(Math.round((0.5 + r() * 10) * LAMPORTS_PER_SOL));
  const ts = BigInt(Date.now());
  return {
    inputs: inputsOf(e, { victimAmountIn: Number(victimAmountIn), frontrunAmountIn: Number(frontrunAmountIn) }),
    complete: (live, shadow) =>
      create(MevOpportunitySchema, {
        schemaVersion: 1,
        version: "sota-1",
        ts,
        id: `mev-${slot}-${n}`,
        agentId,
        slot,
        attacker,
        victimTx,
        dex,
        pool,
        victimAmountIn,
        frontrunAmountIn,
        ...decide(e, rt, live, shadow, { bundleId: `b-${agentId}-${n}`, slot }),
      }),
  };
}

/** The built-in rule's estimate. */
export const heuristicEstimate = (inputs: ModelInputs): Estimate => ({ pLand: inputs.heuristic, modelId: "" });

/** An opportunity decided with the built-in rule (the agent without a model; tests). */
export function arbOpportunity(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): ArbOpportunity {
  const d = arbDraft(r, agentId, slot, n, rt);
  return d.complete(heuristicEstimate(d.inputs));
}

export function mevOpportunity(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): MevOpportunity {
  const d = mevDraft(r, agentId, slot, n, rt);
  return d.complete(heuristicEstimate(d.inputs));
}
