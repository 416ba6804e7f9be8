import type { Message } from "@lumino/messaging";
import { Panel, Widget } from "@lumino/widgets";
import { metricsHistory } from "@mevlab/kernel-helpers/client";
import type { Event } from "@mevlab/proto";
import { el } from "./dom";
import { errorText } from "./errors";
import { MetricsCards } from "./metrics-cards";
import { MetricsCharts } from "./metrics-charts";
import { MetricsSeries } from "./metrics-series";
import type { IMevlabConnection } from "./tokens";

/** The windows a user may chart, in minutes (the control plane keeps an hour). */
const WINDOWS = [5, 15, 60] as const;
const POLL_MS = 1_000;
/** After a failed read: the control plane may be restarting. */
const RETRY_MS = 3_000;

/**
 * Metrics: the summary's cards (from the realtime stream) and charts of cumulative PnL, hot path p99
 * and landed share over the last minutes. Opened, it reads the control plane's per-second history,
 * so the charts start full; then it asks once a second for the seconds since. Hidden, it neither
 * polls nor draws; shown again, it catches up with one read.
 */
export class MetricsPanel extends Panel {
  private readonly cards = new MetricsCards();
  private readonly series = new MetricsSeries();
  private readonly charts = new MetricsCharts(this.series);
  private readonly message = el("div", { className: "mevlab-metrics-message", role: "status" });
  private readonly window = el("select", { className: "mevlab-metrics-window", name: "window" });
  private minutes: number = 15;
  private timer?: number;
  /** Bumped by each new read, a session change, a window change, hiding and dispose: a late answer is dropped. */
  private seq = 0;

  constructor(private readonly conn: IMevlabConnection) {
    super();
    this.id = "mevlab-metrics";
    this.title.label = "mevlab metrics";
    this.title.closable = true;
    this.addClass("mevlab-metrics-panel");
    for (const m of WINDOWS)
      this.window.append(el("option", { value: String(m), selected: m === this.minutes }, `${m} min`));
    this.window.onchange = () => this.setWindow(Number(this.window.value));
    const bar = new Widget({
      node: el(
        "div",
        { className: "mevlab-metrics-bar" },
        this.message,
        el("label", { className: "mevlab-metrics-window-label" }, "Charts: last ", this.window),
      ),
    });
    this.addWidget(bar);
    this.addWidget(this.cards);
    this.addWidget(this.charts);
    conn.sessionChanged.connect(this.onSession, this);
    conn.events.connect(this.onEvents, this);
    this.onSession();
  }

  override dispose(): void {
    // A read in flight must not arm the next one after this.
    this.seq++;
    this.conn.sessionChanged.disconnect(this.onSession, this);
    this.conn.events.disconnect(this.onEvents, this);
    window.clearTimeout(this.timer);
    super.dispose();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.poll();
  }

  protected override onBeforeHide(msg: Message): void {
    super.onBeforeHide(msg);
    this.seq++;
    window.clearTimeout(this.timer);
  }

  private onSession(): void {
    this.seq++;
    this.series.clear();
    this.charts.schedule();
    const s = this.conn.session;
    this.node.dataset.access = s ? s.role : "none";
    this.say(s ? "" : "Log in (mevlab: Control & Live) to see the metrics.");
    void this.poll();
  }

  /** The newest summary of a batch, to the cards; nothing to do while hidden. */
  private onEvents(_: IMevlabConnection, events: Event[]): void {
    if (!this.isVisible) return;
    for (let i = events.length - 1; i >= 0; i--) {
      const p = events[i].payload;
      if (p.case === "metricsSummary") {
        this.cards.update_(p.value);
        return;
      }
    }
  }

  private setWindow(minutes: number): void {
    this.minutes = minutes;
    this.series.clear();
    void this.poll();
  }

  /** One read of the seconds not held yet, then the next a second later, while visible and logged in. */
  private async poll(): Promise<void> {
    window.clearTimeout(this.timer);
    const seq = ++this.seq;
    if (!this.isVisible || !this.conn.session) return;
    let next = POLL_MS;
    try {
      const since = this.series.lastTs;
      const h = await metricsHistory(this.conn.controlPlane(), { minutes: this.minutes, since });
      if (seq !== this.seq) return;
      const newest = this.series.lastTs;
      // Another run of the control plane: read its history whole at once.
      if (!this.series.merge(h, this.minutes)) next = 0;
      this.node.dataset.points = String(this.series.length);
      if (this.series.lastTs !== newest) this.charts.schedule();
      this.say(h.ts.length === 0 && this.series.length === 0 ? "No whole second measured yet." : "");
    } catch (err) {
      if (seq !== this.seq) return;
      this.say(`cannot read the metrics history: ${errorText(err)}`, true);
      next = RETRY_MS;
    }
    this.timer = window.setTimeout(() => void this.poll(), next);
  }

  private say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle("mevlab-error", error);
  }
}
