import { BoxLayout, TabPanel, Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import { Stream, type Event, type Gap } from "@mevlab/proto";
import { LiveFeed, type FeedCredentials, type LiveFilters, type ResumePoint } from "./live-feed";
import { LiveTab } from "./live-tab";
import { LiveToolbar } from "./live-toolbar";
import type { OpenInNotebookArgs } from "./open-in-notebook-cell";

export interface LiveStreamOptions {
  maxRows: number;
  filters: LiveFilters;
  openInNotebook?: (args: OpenInNotebookArgs) => void;
  /** Told after each frame that drew new rows (bench:ui reads the panel's data-oldest-new-ts). */
  onPainted?: (oldestNewTs: number, newestTs: number) => void;
}

/**
 * The live stream: a toolbar (filters, pause, Open in notebook) over the Arbitrage and MEV tabs, fed by
 * its own realtime socket (LiveFeed). Whatever arrives draws in the next animation frame, once, and only
 * the tab in view; while the stream is hidden it only buffers, and draws when shown.
 */
export class LiveStream extends Widget {
  private readonly feed: LiveFeed;
  private readonly toolbar: LiveToolbar;
  private readonly tabs: TabPanel;
  readonly arbitrage: LiveTab;
  readonly mev: LiveTab;
  private frame = 0;
  private paused = false;

  constructor(private readonly options: LiveStreamOptions) {
    super();
    this.addClass("mevlab-live");
    this.arbitrage = new LiveTab("arbitrage", options.maxRows);
    this.mev = new LiveTab("mev", options.maxRows);
    this.tabs = new TabPanel();
    this.tabs.addClass("mevlab-live-tabs");
    this.tabs.addWidget(this.arbitrage);
    this.tabs.addWidget(this.mev);
    this.tabs.currentChanged.connect(() => this.onTabChanged());
    this.toolbar = new LiveToolbar({
      filters: options.filters,
      apply: (f) => this.feed.setFilters(f),
      togglePause: () => this.setPaused(!this.paused),
      openInNotebook: () => this.openInNotebook(),
    });
    this.feed = new LiveFeed(
      {
        onEvents: (events) => this.onEvents(events),
        onGap: (gap) => this.onGap(gap),
        onFiltersApplied: (f) => this.onFiltersApplied(f),
        onState: (s) => {
          this.toolbar.setState(s);
          this.node.dataset.reconnects = String(this.feed.reconnects);
        },
        onResumed: (resumed) => this.showResumed(resumed),
      },
      options.filters,
    );
    this.showFilters(this.feed.filters);
    const layout = new BoxLayout({ direction: "top-to-bottom", spacing: 4 });
    this.layout = layout;
    BoxLayout.setStretch(this.toolbar, 0);
    BoxLayout.setSizeBasis(this.toolbar, 34);
    layout.addWidget(this.toolbar);
    BoxLayout.setStretch(this.tabs, 1);
    layout.addWidget(this.tabs);
    this.onTabChanged();
  }

  /**
   * Opens the feed for a session; `null` closes it (logout, or a session that expired). A new session
   * starts empty (`reset`); `resume` (the same user's expired session carried on) keeps the rows, the
   * pause and the detail, and asks for what was published meanwhile: replayed, or shown as a gap.
   */
  setSession(creds: FeedCredentials | null, resume = false): void {
    if (!creds) {
      this.feed.stop();
      return;
    }
    if (!resume) this.reset();
    this.feed.start(creds, resume);
  }

  /** Another session's view: both tabs emptied (their gaps and details too), and no pause. */
  reset(): void {
    this.arbitrage.clear();
    this.mev.clear();
    delete this.node.dataset.resume;
    if (this.paused) this.setPaused(false);
    this.renderCaption();
    this.schedule();
  }

  setMaxRows(n: number): void {
    for (const t of [this.arbitrage, this.mev]) t.model.setMaxRows(n);
    this.schedule();
  }

  get current(): LiveTab {
    return (this.tabs.currentWidget as LiveTab | null) ?? this.arbitrage;
  }

  override dispose(): void {
    this.feed.stop();
    cancelAnimationFrame(this.frame);
    super.dispose();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.schedule();
  }

  private onEvents(events: Event[]): void {
    const a = this.arbitrage.model.add(events);
    const m = this.mev.model.add(events);
    if (a || m) this.schedule();
  }

  /** Gaps are counted as they come and drawn with the next frame's rows (a slow client's drops are thousands). */
  private onGap(gap: Gap): void {
    if (gap.stream !== Stream.mev_opportunity) this.arbitrage.addGap(gap);
    if (gap.stream !== Stream.arb_opportunity) this.mev.addGap(gap);
    this.schedule();
  }

  /** Where a resumed feed asked to carry on and the first seq that came, per stream: `stream:since:first,…`. */
  private showResumed(resumed: ReadonlyMap<string, ResumePoint>): void {
    const parts = [...resumed].map(([name, p]) => `${name}:${p.since}:${p.first ?? ""}`);
    this.node.dataset.resume = parts.join(",");
  }

  private onFiltersApplied(filters: LiveFilters): void {
    this.arbitrage.clear();
    this.mev.clear();
    this.showFilters(filters);
    this.schedule();
  }

  /** The filters in force, in the toolbar and as the stream's data-dexes and data-min-net-sol. */
  private showFilters(f: LiveFilters): void {
    this.toolbar.setFilters(f);
    this.node.dataset.dexes = f.dexes.join(",");
    this.node.dataset.minNetSol = f.minNetSol === null ? "" : String(f.minNetSol);
  }

  private setPaused(paused: boolean): void {
    this.paused = paused;
    for (const t of [this.arbitrage, this.mev]) t.model.paused = paused;
    this.node.dataset.paused = String(paused);
    this.current.refreshRange();
    this.toolbar.setPaused(paused);
    this.renderCaption();
    this.schedule();
  }

  private onTabChanged(): void {
    this.node.dataset.module = this.current.module;
    this.renderCaption();
    this.schedule();
  }

  private openInNotebook(): void {
    const tab = this.current;
    const range = tab.refreshRange();
    if (!range) {
      this.toolbar.setNote("No rows shown yet: nothing to open.");
      return;
    }
    if (!this.options.openInNotebook) {
      this.toolbar.setNote("Open in notebook is not available in this JupyterLab.");
      return;
    }
    const { dexes, minNetSol } = this.feed.filters;
    this.toolbar.setNote("");
    this.options.openInNotebook({ module: tab.module, dexes: [...dexes], minNetSol, from: range.from, to: range.to });
  }

  private schedule(): void {
    if (this.frame || !this.isVisible) return;
    this.frame = requestAnimationFrame((now) => {
      this.frame = 0;
      if (this.isVisible) this.draw(now);
    });
  }

  private draw(now: number): void {
    const tab = this.current;
    const oldestNewTs = tab.draw(now);
    this.renderCaption();
    if (Number.isFinite(oldestNewTs)) this.options.onPainted?.(oldestNewTs, tab.model.newestTs);
  }

  private renderCaption(): void {
    const m = this.current.model;
    const kept = m.kept;
    const gone = m.size - kept;
    // A pause longer than the ring: the oldest rows on screen were overwritten; what is shown is what is kept.
    const shown = `${kept.toLocaleString()} shown${gone > 0 ? ` (${gone.toLocaleString()} older overwritten while paused)` : ""}`;
    this.toolbar.setCaption(this.paused ? `${shown} · paused, ${m.pending.toLocaleString()} new since` : shown);
  }
}
