/** Seeded randomness of the simulated market: one stream per agent, and one per slot that every agent shares. */

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

/** A standard normal draw (Box-Muller). */
export function normal(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** A log-normal draw around `median` (Box-Muller): latencies have a long right tail. */
export function logNormal(r: () => number, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(r));
}

/**
 * The random stream of one slot, a function of the slot number alone: the slot's market (its tip
 * floor, its competition) is the chain's, the same for every agent and every seed.
 */
export function slotRandom(slot: bigint): () => number {
  const lo = Number(slot & 0xffffffffn);
  const hi = Number((slot >> 32n) & 0xffffffffn);
  // murmur3's finalizer spreads neighbouring slots over the whole seed space.
  let h = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return rng((h ^ (h >>> 16)) >>> 0);
}
