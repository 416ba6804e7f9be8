import type { MetricsHistory } from "@mevlab/kernel-helpers/client";

/**
 * The charts' points, one per second, kept for the window shown: what GET /api/metrics/history gave
 * at first, then each poll's newer seconds appended and the oldest dropped. Times as Date objects,
 * made once per point, because plotly draws them in local time (numbers it would take as UTC).
 */
export class MetricsSeries {
  readonly x: Date[] = [];
  readonly pnl: number[] = [];
  readonly hotpath: Array<number | null> = [];
  /** Landed share in percent. */
  readonly landed: Array<number | null> = [];
  private startedAt?: number;

  /** The newest second held (ms), for the next poll's `since`. */
  get lastTs(): number | undefined {
    const last = this.x.at(-1);
    return last === undefined ? undefined : last.getTime();
  }

  get length(): number {
    return this.x.length;
  }

  /**
   * Appends the answer's points newer than those held and drops those older than `minutes`. False
   * (and nothing kept) when the answer comes from another run of the control plane: ask again, whole.
   */
  merge(h: MetricsHistory, minutes: number): boolean {
    if (this.startedAt !== undefined && h.started_at !== this.startedAt) {
      this.clear();
      return false;
    }
    this.startedAt = h.started_at;
    const last = this.lastTs ?? -Infinity;
    h.ts.forEach((ts, i) => {
      if (ts <= last) return;
      this.x.push(new Date(ts));
      this.pnl.push(h.cumulative_pnl_sol[i]);
      this.hotpath.push(h.hotpath_p99_ms[i]);
      const landed = h.landed_pct[i];
      this.landed.push(landed === null ? null : 100 * landed);
    });
    const newest = this.lastTs;
    if (newest === undefined) return true;
    let old = 0;
    while (old < this.x.length && this.x[old].getTime() <= newest - minutes * 60_000) old++;
    if (old > 0) for (const column of [this.x, this.pnl, this.hotpath, this.landed]) column.splice(0, old);
    return true;
  }

  clear(): void {
    for (const column of [this.x, this.pnl, this.hotpath, this.landed]) column.length = 0;
    this.startedAt = undefined;
  }
}
