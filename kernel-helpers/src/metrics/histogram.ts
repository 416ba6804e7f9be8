/**
 * Fixed-bucket latency histograms, as carried by `MetricsUpdate` (bounds in microseconds, one more
 * count than bounds: the last bucket is +Inf). Fixed bounds let the control plane add histograms of
 * many agents and seconds by adding counts.
 */
export const LATENCY_BOUNDS_US: readonly number[] = [
  50, 100, 150, 200, 300, 400, 500, 650, 800, 1_000, 1_250, 1_500, 2_000, 2_500, 3_000, 4_000, 5_000, 6_500, 8_000,
  10_000, 15_000, 20_000, 30_000, 50_000, 100_000, 250_000, 1_000_000,
];

export interface HistogramData {
  bounds: number[];
  counts: bigint[];
  count: bigint;
  sum: number;
}

/** Accumulates observations in fixed buckets. */
export class LatencyHistogram {
  private counts: number[];
  private n = 0;
  private total = 0;

  constructor(readonly bounds: readonly number[] = LATENCY_BOUNDS_US) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let lo = 0;
    let hi = this.bounds.length;
    // First bucket whose upper bound is >= value (binary search; the last one is +Inf).
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.bounds[mid] >= value) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo] += 1;
    this.n += 1;
    this.total += value;
  }

  /** The counts so far, then starts again from zero. */
  take(): HistogramData {
    const out = {
      bounds: [...this.bounds],
      counts: this.counts.map((c) => BigInt(c)),
      count: BigInt(this.n),
      sum: this.total,
    };
    this.counts.fill(0);
    this.n = 0;
    this.total = 0;
    return out;
  }
}

/** Adds `from` into `into` (same bounds); histograms with other bounds are refused. */
export function addHistogram(into: number[], bounds: readonly number[], from: HistogramData | undefined): boolean {
  if (!from || from.counts.length !== bounds.length + 1) return false;
  for (let i = 0; i < from.bounds.length; i++) if (from.bounds[i] !== bounds[i]) return false;
  for (let i = 0; i < into.length; i++) into[i] += Number(from.counts[i]);
  return true;
}

/**
 * The q-quantile (0..1) of bucket counts, interpolated linearly inside its bucket (the +Inf bucket
 * reports its lower bound). NaN when there is nothing counted.
 */
export function quantileOf(counts: readonly number[], bounds: readonly number[], q: number): number {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 0) continue;
    if (seen + counts[i] >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1];
      if (i === bounds.length) return lower;
      const upper = bounds[i];
      return lower + ((upper - lower) * (rank - seen)) / counts[i];
    }
    seen += counts[i];
  }
  return bounds[bounds.length - 1];
}
