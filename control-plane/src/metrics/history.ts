import { LATENCY_BOUNDS_US, quantileOf, type MetricsHistory } from "@mevlab/kernel-helpers";
import { KEPT_S, WINDOWS_S, type RollingMetrics, type Second } from "./rolling";

const LAMPORTS_PER_SOL = 1_000_000_000;

/**
 * The per-second history of the summary's charted metrics, derived on demand from the seconds that
 * RollingMetrics keeps anyway (an hour and ten minutes): nothing more is stored, so it is bounded by
 * construction. A point for second `t` is what the summary gave at the end of `t`: hot path p99 over
 * the 60 s to `t`, landed share over the 10 min to `t`, and the cumulative PnL at `t` (the total since
 * start, less what landed after `t`). Only whole seconds: the current one is still filling.
 */
export function metricsHistory(rolling: RollingMetrics, opts: { minutes: number; since?: number }): MetricsHistory {
  const nowS = Math.floor(rolling.now() / 1000);
  const first = Math.max(
    nowS - opts.minutes * 60,
    Math.floor(rolling.startedAt / 1000),
    opts.since === undefined ? -Infinity : Math.floor(opts.since / 1000) + 1,
  );
  const out: MetricsHistory = {
    started_at: rolling.startedAt,
    ts: [],
    cumulative_pnl_sol: [],
    hotpath_p99_ms: [],
    landed_pct: [],
  };
  if (first >= nowS) return out;
  // Walk back from now to `first` for the PnL after each point; then forward with sliding windows.
  let after = 0n;
  for (let at = nowS; at > nowS - KEPT_S && at >= first; at--) after += rolling.at(at)?.pnlLamports ?? 0n;
  let pnl = rolling.pnlTotalLamports() - after;
  const hot = new Sliding(WINDOWS_S.latency, (w, s, sign) => s.hotpath.forEach((n, i) => (w.counts[i] += sign * n)));
  const landed = new Sliding(WINDOWS_S.landed, (w, s, sign) => {
    w.sent += sign * s.sent;
    w.landed += sign * s.landed;
  });
  for (const w of [hot, landed]) for (let at = first - w.width + 1; at < first; at++) w.enter(rolling, at);
  for (let at = first; at < nowS; at++) {
    hot.enter(rolling, at);
    landed.enter(rolling, at);
    pnl += rolling.at(at)?.pnlLamports ?? 0n;
    const p99 = quantileOf(hot.counts, LATENCY_BOUNDS_US, 0.99);
    out.ts.push(at * 1000);
    out.cumulative_pnl_sol.push(Number(pnl) / LAMPORTS_PER_SOL);
    out.hotpath_p99_ms.push(Number.isNaN(p99) ? null : Math.round(p99) / 1000);
    out.landed_pct.push(landed.sent > 0 ? landed.landed / landed.sent : null);
  }
  return out;
}

/**
 * A window of the last `width` seconds, entered one second after another: each second is added when it
 * enters and taken out `width` seconds later (never one that did not enter).
 */
class Sliding {
  readonly counts = new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);
  sent = 0;
  landed = 0;
  private from?: number;

  constructor(
    readonly width: number,
    private readonly apply: (w: Sliding, s: Readonly<Second>, sign: 1 | -1) => void,
  ) {}

  enter(rolling: RollingMetrics, at: number): void {
    this.from ??= at;
    const s = rolling.at(at);
    if (s) this.apply(this, s, 1);
    const gone = at - this.width >= this.from ? rolling.at(at - this.width) : undefined;
    if (gone) this.apply(this, gone, -1);
  }
}
