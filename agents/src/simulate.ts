import {
  create,
  ArbOpportunitySchema,
  MevOpportunitySchema,
  type ArbOpportunity,
  type MevOpportunity,
} from "@mevlab/proto";
import type { AgentRuntime } from "./state";

const DEXES = ["Raydium", "Orca", "Meteora", "PumpSwap"] as const;
const SOL = "So11111111111111111111111111111111111111112";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const LAMPORTS_PER_SOL = 1_000_000_000;
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/**
 * The most opportunities per second a reference agent simulates (`--rate`). At this rate one agent's
 * 100 ms batch is ~330 KB (arbitrage), more than one bus link frame: the link splits it.
 */
export const MAX_SIMULATED_RATE = 5_000;

/** Deterministic PRNG (mulberry32), so a seeded agent replays the same market. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function base58(r: () => number, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += B58[Math.floor(r() * B58.length)];
  return s;
}

/** Tip in lamports drawn around a tip floor (log-normal around ~100k lamports), at a ladder quantile. */
function tip(r: () => number, rt: AgentRuntime): { lamports: bigint; quantile: number } {
  const quantile = pick(r, rt.tipLadder);
  const floor = 100_000 * Math.exp((r() - 0.5) * 0.8);
  return { lamports: BigInt(Math.round(floor * (0.5 + quantile))), quantile };
}

function profit(r: () => number, tipLamports: bigint) {
  const gross = BigInt(Math.round(200_000 + r() * 5_000_000));
  const fees = 5_000n + BigInt(Math.round(r() * 10_000));
  const net = gross - fees - tipLamports;
  return {
    grossLamports: gross,
    feesLamports: fees,
    tipLamports,
    netLamports: net,
    netSol: Number(net) / LAMPORTS_PER_SOL,
  };
}

/** A log-normal draw around `median` (Box-Muller): latencies have a long right tail. */
export function logNormal(r: () => number, median: number, sigma: number): number {
  const u = Math.max(r(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  return median * Math.exp(sigma * z);
}

/** Simulated opportunities: nothing here touches a chain. */
/** Tip, profit and the agent's decision on it under its current policy. */
function economics(r: () => number, rt: AgentRuntime, pLandRange: [number, number]) {
  const t = tip(r, rt);
  const p = profit(r, t.lamports);
  const pLand = pLandRange[0] + r() * (pLandRange[1] - pLandRange[0]);
  const decisionMeta = {
    pLandEst: pLand,
    evSol: p.netSol * pLand,
    tipPolicy: { ladder: rt.tipLadder, quantile: t.quantile, tipLamports: t.lamports },
    policyVersion: rt.policyVersion,
    accepted: p.netSol * pLand >= rt.evMin,
  };
  return { tip: t, profit: p, pLand, decisionMeta };
}

export function arbOpportunity(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): ArbOpportunity {
  const { tip: t, profit: p, pLand, decisionMeta } = economics(r, rt, [0.4, 0.95]);
  const accepted = decisionMeta.accepted;
  const landed = accepted && r() < pLand;
  const amountIn = BigInt(Math.round((0.5 + r() * 20) * LAMPORTS_PER_SOL));
  const mid = (amountIn * 155n) / 1000n;
  return create(ArbOpportunitySchema, {
    schemaVersion: 1,
    version: "sota-1",
    ts: BigInt(Date.now()),
    id: `arb-${slot}-${n}`,
    agentId,
    slot,
    txSignature: base58(r, 88),
    route: [
      { dex: pick(r, DEXES), pool: base58(r, 44), inMint: SOL, outMint: USDC, amountIn, amountOut: mid },
      {
        dex: pick(r, DEXES),
        pool: base58(r, 44),
        inMint: USDC,
        outMint: SOL,
        amountIn: mid,
        amountOut: amountIn + p.grossLamports,
      },
    ],
    profit: p,
    decisionMeta,
    outcome: accepted
      ? { bundleId: `b-${agentId}-${n}`, landed, landedSlot: landed ? slot + 1n : 0n, tipLamports: t.lamports }
      : undefined,
  });
}

export function mevOpportunity(
  r: () => number,
  agentId: string,
  slot: bigint,
  n: number,
  rt: AgentRuntime,
): MevOpportunity {
  const { tip: t, profit: p, pLand, decisionMeta } = economics(r, rt, [0.3, 0.9]);
  const accepted = decisionMeta.accepted;
  const landed = accepted && r() < pLand;
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
    victimAmountIn: BigInt(Math.round((1 + r() * 50) * LAMPORTS_PER_SOL)),
    frontrunAmountIn: BigInt(Math.round((0.5 + r() * 10) * LAMPORTS_PER_SOL)),
    profit: p,
    decisionMeta,
    outcome: accepted
      ? { bundleId: `b-${agentId}-${n}`, landed, landedSlot: landed ? slot + 1n : 0n, tipLamports: t.lamports }
      : undefined,
  });
}
