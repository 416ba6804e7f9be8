import { launchedPanel } from "./launched-panel";
import { MetricsPanel } from "./metrics-panel";

/** Metrics: the summary's cards and charts of cumulative PnL, hot path p99 and landed share. */
export const metricsPlugin = launchedPanel({
  id: "metrics",
  description: "Metric cards and charts: cumulative PnL, hot path p99, landed share, refreshed once a second.",
  command: "mevlab:metrics",
  label: "mevlab: Metrics",
  caption: "Hot path and send latency, landed share, PnL and store writes; charts of the last hour",
  name: "mevlab metrics",
  rank: 5,
  create: (conn) => new MetricsPanel(conn),
});
