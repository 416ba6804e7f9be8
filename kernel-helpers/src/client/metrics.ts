import type { ControlPlaneClient } from "./control-plane";
import type { MetricsHistory } from "./wire-metrics";

export interface MetricsHistoryOptions {
  /** How far back, 1–60 (default 60). */
  minutes?: number;
  /** Only the seconds after this one (ms since the epoch): for a chart that polls what is new. */
  since?: number;
}

/**
 * The per-second history of cumulative PnL, hot path p99 and landed share (GET /api/metrics/history),
 * oldest first. docs/api.md, "Metrics history", defines each column.
 */
export function metricsHistory(client: ControlPlaneClient, opts: MetricsHistoryOptions = {}): Promise<MetricsHistory> {
  const q = new URLSearchParams({ minutes: String(opts.minutes ?? 60) });
  if (opts.since !== undefined) q.set("since", String(opts.since));
  return client.get(`/api/metrics/history?${q.toString()}`);
}
