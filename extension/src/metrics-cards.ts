import { Widget } from "@lumino/widgets";
import type { MetricsSummary, NodeStatus } from "@mevlab/proto";

/** The blueprint's metric cards, and the private node's health, from the once-a-second summary. */
const CARDS: { key: string; label: string; value: (m: MetricsSummary) => string }[] = [
  { key: "hotpath", label: "hotpath p50 / p99", value: (m) => `${ms(m.hotpathP50)} / ${ms(m.hotpathP99)}` },
  { key: "send", label: "send p99", value: (m) => ms(m.sendP99) },
  {
    key: "landed",
    label: "landed, 10 min",
    value: (m) =>
      m.bundlesSent10m > 0n ? `${(100 * m.landedPct).toFixed(1)} % of ${m.bundlesSent10m}` : "no bundle sent",
  },
  { key: "pnl", label: "PnL, 1 h", value: (m) => `${m.pnl1h.toFixed(4)} SOL` },
  { key: "store", label: "store writes", value: (m) => `${m.storeRowsPerS.toFixed(0)} rows/s` },
];

const ms = (v: number) => `${v.toFixed(2)} ms`;

export class MetricsCards extends Widget {
  private readonly values = new Map<string, HTMLElement>();
  private readonly node_: HTMLElement;
  private last = 0;

  constructor() {
    super();
    this.addClass("mevlab-metrics");
    for (const c of CARDS) {
      const card = document.createElement("div");
      card.className = "mevlab-metric";
      card.dataset.metric = c.key;
      const label = document.createElement("div");
      label.className = "mevlab-metric-label";
      label.textContent = c.label;
      const value = document.createElement("div");
      value.className = "mevlab-metric-value";
      value.textContent = "–";
      this.values.set(c.key, value);
      card.append(label, value);
      this.node.append(card);
    }
    this.node_ = document.createElement("div");
    this.node_.className = "mevlab-metric mevlab-node";
    this.node_.dataset.metric = "node";
    this.node_.textContent = "node: waiting for the first poll";
    this.node.append(this.node_);
  }

  /** At most one redraw a second, whatever the rate of summaries. */
  update_(m: MetricsSummary, now = Date.now()): void {
    if (now - this.last < 1_000) return;
    this.last = now;
    for (const c of CARDS) this.values.get(c.key)!.textContent = c.value(m);
    this.renderNode(m.node);
  }

  private renderNode(n: NodeStatus | undefined): void {
    const el = this.node_;
    if (!n || !n.configured) {
      el.dataset.state = "not_configured";
      el.textContent = "node: not configured (set MEVLAB_NODE_RPC to watch your node)";
      return;
    }
    const state = !n.reachable ? "unreachable" : n.healthy ? "healthy" : "unhealthy";
    el.dataset.state = state;
    const lag = n.referenceSlot > 0n ? `, slot lag ${n.slotLag}` : "";
    const version = n.version ? `, ${n.version}` : "";
    const seen = `, polled ${new Date(Number(n.ts)).toLocaleTimeString()}`;
    const why = n.healthError ? ` (${n.healthError})` : "";
    el.textContent = `node ${n.url}: ${state}${why}${lag}${version}, slot ${n.slotProcessed}${seen}`;
  }
}
