import { normal, slotRandom } from "./random";

/** The tip floor of a slot: percentiles of the tips that landed in it, lamports. */
export interface TipFloor {
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** What one slot's market is like. Everything but `shock` is visible to the agents (docs/simulation.md). */
export interface SlotContext {
  tipFloor: TipFloor;
  /** Other bundles competing in this slot. */
  competingBundles: number;
  /** 0-3: the slot's place in its leader's four consecutive slots. */
  leaderSlotIndex: number;
  /** Unobserved: whatever else happened in the slot, added to every bundle's landing log-odds. */
  shock: number;
}

/** The slot process's parameters (docs/simulation.md). */
export const SLOT_MARKET = {
  /** The tip floor's median p50, lamports. */
  tipFloorP50: 80_000,
  /** Congestion (log scale) follows a cycle of this many slots (12 minutes at the agents' 10 slots/s)… */
  cycleSlots: 7_200,
  cycleAmplitude: 0.5,
  /** …plus this much noise per slot. */
  congestionSigma: 0.35,
  /** Competing bundles in a slot of median congestion. */
  competingMedian: 8,
  shockSigma: 0.35,
} as const;

let memo: { slot: bigint; ctx: SlotContext } | undefined;

/** The market of `slot`: a function of the slot number alone, so every agent on the slot sees the same one. */
export function slotContext(slot: bigint): SlotContext {
  if (memo?.slot === slot) return memo.ctx;
  const m = SLOT_MARKET;
  const r = slotRandom(slot);
  const phase = Number(slot % BigInt(m.cycleSlots)) / m.cycleSlots;
  const congestion = m.cycleAmplitude * Math.sin(2 * Math.PI * phase) + m.congestionSigma * normal(r);
  const p50 = m.tipFloorP50 * Math.exp(congestion);
  const p25 = p50 * Math.exp(-0.8 + 0.1 * normal(r));
  const p75 = p50 * Math.exp(0.9 + 0.15 * normal(r) + 0.2 * congestion);
  const p95 = p75 * Math.exp(1.5 + 0.3 * normal(r) + 0.3 * congestion);
  const ctx: SlotContext = {
    tipFloor: { p25, p50, p75, p95 },
    competingBundles: Math.floor(m.competingMedian * Math.exp(0.9 * congestion + 0.4 * normal(r))),
    leaderSlotIndex: Number(slot % 4n),
    shock: m.shockSigma * normal(r),
  };
  memo = { slot, ctx };
  return ctx;
}

const KNOTS = [0.25, 0.5, 0.75, 0.95] as const;

/**
 * The tip at quantile `q` of the floor: log-linear between the known percentiles, extended past p25
 * and p95 along the nearest segment.
 */
export function tipFloorAt(floor: TipFloor, q: number): number {
  const logs = [Math.log(floor.p25), Math.log(floor.p50), Math.log(floor.p75), Math.log(floor.p95)];
  let i = 0;
  while (i < KNOTS.length - 2 && q > KNOTS[i + 1]) i++;
  const slope = (logs[i + 1] - logs[i]) / (KNOTS[i + 1] - KNOTS[i]);
  return Math.exp(logs[i] + slope * (q - KNOTS[i]));
}
