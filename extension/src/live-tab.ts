import { BoxLayout, Widget } from "@lumino/widgets";
import type { DataGrid } from "@lumino/datagrid";
import { ArbOpportunitySchema, MevOpportunitySchema, Stream, toWireJson, type Gap } from "@mevlab/proto";
import { OpportunityModel, RECENT, createGrid, type Opportunity } from "./live";
import type { LiveModule } from "./live-rows";
import { followTheme } from "./live-theme";

/** Gap notices kept on screen per tab (the totals count them all). */
const NOTICES = 5;
/**
 * How often, at most, the counts and the time range of the shown rows (a scan of them) are written to
 * the tab's data attributes while the table moves (ms); a pause and Open in notebook write them at once.
 */
const RANGE_EVERY_MS = 250;

/**
 * One module's tab of the live stream: its gap notices, its table and, beside it, the detail of the
 * row last clicked. The tab's node carries what a test reads: data-module, data-shown, data-from,
 * data-to (the shown rows' time range, ms), data-pending (arrived, not shown: a pause), data-gaps and
 * data-lost; at a pause also data-shown-min-net-sol, data-shown-dexes and data-shown-dex-sets (what the shown
 * rows hold: their lowest net SOL, the DEXes, each row's set of DEXes).
 */
export class LiveTab extends Widget {
  readonly model: OpportunityModel;
  readonly grid: DataGrid;
  private readonly notices = new Widget();
  private readonly detail = new Widget();
  private gaps = 0;
  private lost = 0n;
  private rangeAt = -Infinity;
  private countsTimer: ReturnType<typeof setTimeout> | undefined;
  private _range: { from: number; to: number } | undefined;
  private readonly unfollowTheme: () => void;

  constructor(
    readonly module: LiveModule,
    maxRows: number,
  ) {
    super();
    this.addClass("mevlab-live-tab");
    this.id = `mevlab-live-${module}`;
    this.title.label = module === "mev" ? "MEV" : "Arbitrage";
    this.node.dataset.module = module;
    this.model = new OpportunityModel(module, maxRows);
    this.grid = createGrid(this.model);
    this.unfollowTheme = followTheme(this.grid);
    this.grid.node.addEventListener("click", (ev) => this.onClick(ev));
    this.notices.addClass("mevlab-gaps");
    this.detail.addClass("mevlab-detail");
    this.detail.hide();

    const body = new Widget();
    const bodyLayout = new BoxLayout({ direction: "left-to-right", spacing: 4 });
    body.layout = bodyLayout;
    BoxLayout.setStretch(this.grid, 1);
    bodyLayout.addWidget(this.grid);
    BoxLayout.setStretch(this.detail, 0);
    BoxLayout.setSizeBasis(this.detail, 380);
    bodyLayout.addWidget(this.detail);

    const layout = new BoxLayout({ direction: "top-to-bottom", spacing: 4 });
    this.layout = layout;
    BoxLayout.setStretch(this.notices, 0);
    BoxLayout.setSizeBasis(this.notices, 0);
    layout.addWidget(this.notices);
    BoxLayout.setStretch(body, 1);
    layout.addWidget(body);
    this.renderCounts(0);
  }

  override dispose(): void {
    this.unfollowTheme();
    clearTimeout(this.countsTimer);
    super.dispose();
  }

  /** Draws what arrived (unless paused); returns the emit time of the oldest row new on screen. */
  draw(now: number): number {
    const oldestNewTs = this.model.flush(now);
    if (now - this.rangeAt >= RANGE_EVERY_MS) this.renderCounts(now);
    else if (Number.isFinite(oldestNewTs) && !this.countsTimer) {
      // The last rows of a burst are counted too, if a little later.
      this.countsTimer = setTimeout(() => {
        this.countsTimer = undefined;
        if (!this.isDisposed) this.renderCounts(performance.now());
      }, RANGE_EVERY_MS);
    }
    return oldestNewTs;
  }

  /** The shown rows' time range, as of the last draw. */
  get range(): { from: number; to: number } | undefined {
    return this._range;
  }

  /** Recomputes the shown rows' range now (a pause, a click on Open in notebook). */
  refreshRange(): { from: number; to: number } | undefined {
    this.renderCounts(performance.now());
    const c = this.model.contents();
    this.node.dataset.shownMinNetSol = c.minNetSol === null ? "" : String(c.minNetSol);
    this.node.dataset.shownDexes = c.dexes.join(",");
    this.node.dataset.shownDexSets = c.dexSets.join("|");
    return this._range;
  }

  clear(): void {
    this.model.clear();
    this.renderCounts(performance.now());
    this.gaps = 0;
    this.lost = 0n;
    this.notices.node.replaceChildren();
    BoxLayout.setSizeBasis(this.notices, 0);
    this.closeDetail();
  }

  /**
   * A Gap frame of this tab's stream, shown as "N events not received (seq a–b): reason". One notice per
   * reason, newest on top: a slow client's drops come one frame each, thousands of them, and must not
   * push the rest (a reconnect's replay that came short) out of sight.
   */
  addGap(gap: Gap): void {
    this.gaps++;
    this.lost += gap.lost;
    this.node.dataset.gaps = String(this.gaps);
    this.node.dataset.lost = String(this.lost);
    const stream = Stream[gap.stream] ?? String(gap.stream);
    let el = [...this.notices.node.children].find(
      (n): n is HTMLElement =>
        n instanceof HTMLElement && n.dataset.reason === gap.reason && n.dataset.stream === stream,
    );
    const before = el ? BigInt(el.dataset.lost ?? 0) : 0n;
    if (!el) {
      el = document.createElement("div");
      el.className = "mevlab-gap";
      el.dataset.frames = "0";
    }
    Object.assign(el.dataset, {
      stream,
      fromSeq: el.dataset.fromSeq ?? String(gap.fromSeq),
      toSeq: String(gap.toSeq),
      lost: String(before + gap.lost),
      reason: gap.reason,
      at: new Date().toLocaleTimeString(),
      frames: String(Number(el.dataset.frames) + 1),
    });
    el.textContent = gapText(el.dataset);
    if (this.notices.node.firstElementChild !== el) this.notices.node.prepend(el);
    while (this.notices.node.childElementCount > NOTICES) this.notices.node.lastElementChild?.remove();
    const lines = Math.min(NOTICES, this.notices.node.childElementCount);
    BoxLayout.setSizeBasis(this.notices, lines * 20);
    this.fit();
  }

  private renderCounts(now: number): void {
    this.rangeAt = now;
    this._range = this.model.range();
    const d = this.node.dataset;
    d.shown = String(this.model.size);
    d.pending = String(this.model.pending);
    d.paused = String(this.model.paused);
    d.from = this._range ? String(this._range.from) : "";
    d.to = this._range ? String(this._range.to) : "";
  }

  private onClick(ev: MouseEvent): void {
    const hit = this.grid.hitTest(ev.clientX, ev.clientY);
    if (hit.region !== "body" && hit.region !== "row-header") return;
    this.showDetail(hit.row);
  }

  /** Shows the detail of the shown row `row` (0: the newest). */
  showDetail(row: number): void {
    const r = this.model.row(row);
    const node = this.detail.node;
    node.replaceChildren();
    const head = document.createElement("div");
    head.className = "mevlab-detail-head";
    const title = document.createElement("span");
    const close = document.createElement("button");
    close.className = "jp-mod-styled mevlab-detail-close";
    close.textContent = "Close";
    close.onclick = () => this.closeDetail();
    head.append(title, close);
    const body = document.createElement("pre");
    body.className = "mevlab-detail-json";
    node.append(head, body);
    for (const key of ["id", "dex", "netSol"]) delete node.dataset[key];
    if (!r) {
      title.textContent = `Row ${row + 1}`;
      body.textContent = "This row is no longer kept (overwritten by newer rows).";
      node.dataset.full = "false";
    } else {
      title.textContent = `${this.title.label} · row ${row + 1} · ${r.cells.id}`;
      node.dataset.id = r.cells.id;
      node.dataset.full = String(r.event !== undefined);
      node.dataset.dex = r.cells.dex;
      node.dataset.netSol = r.cells.netSol;
      if (r.event) body.textContent = JSON.stringify(this.toJson(r.event), null, 2);
      else {
        const note = document.createElement("p");
        note.className = "mevlab-detail-note";
        note.textContent =
          `The whole event is kept for the newest ${RECENT.toLocaleString()} rows of this tab; this one is older, ` +
          "so only the table's columns are here. Open in notebook reads every field from the event store.";
        node.insertBefore(note, body);
        body.textContent = JSON.stringify(r.cells, null, 2);
      }
    }
    this.detail.show();
    this.fit();
  }

  private closeDetail(): void {
    this.detail.hide();
    this.detail.node.replaceChildren();
  }

  private toJson(event: Opportunity): unknown {
    return "route" in event ? toWireJson(ArbOpportunitySchema, event) : toWireJson(MevOpportunitySchema, event);
  }
}

function gapText(d: DOMStringMap): string {
  const times = d.frames === "1" ? "" : ` (${d.frames} gaps)`;
  return d.lost !== "0"
    ? `${d.at} · ${d.lost} events not received, seq ${d.fromSeq}–${d.toSeq}${times}: ${d.reason}`
    : `${d.at} · events may be missing${times}: ${d.reason}`;
}
