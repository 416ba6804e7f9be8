import { BoxLayout, Widget } from "@lumino/widgets";
import type { DataGrid } from "@lumino/datagrid";
import { ArbOpportunitySchema, MevOpportunitySchema, Stream, toWireJson, type Gap } from "@mevlab/proto";
import { OpportunityModel, RECENT, createGrid, type Opportunity } from "./live";
import type { LiveModule } from "./live-rows";
import { formatTime } from "./live-bytes";
import { followTheme } from "./live-theme";

/** Gap notices kept on screen per tab (the totals count them all). */
const NOTICES = 5;
/** Gap notices remembered per tab (one per stream and reason; the oldest forgotten beyond). */
const REMEMBERED = 4 * NOTICES;

/** The gaps of one stream for one reason, added up: one notice. */
interface GapNotice {
  stream: string;
  reason: string;
  fromSeq: bigint;
  toSeq: bigint;
  lost: bigint;
  frames: number;
  /** Wall-clock time of the last one (ms). */
  at: number;
}
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
  /** Gap notices by stream and reason, the last added last; `gapsDue`: not drawn yet. */
  private readonly gapNotices = new Map<string, GapNotice>();
  private gapsDue = false;
  private rangeAt = -Infinity;
  private countsTimer: ReturnType<typeof setTimeout> | undefined;
  private _range: { from: number; to: number } | undefined;
  private noticeLines = 0;
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
    if (this.gapsDue) this.renderGaps();
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
    this.gapNotices.clear();
    this.renderGaps();
    this.closeDetail();
  }

  /**
   * A Gap frame of this tab's stream, added to its notice "N events not received (seq a–b): reason"; the
   * notices are drawn with the tab's next frame. One notice per stream and reason, the latest on top: a
   * slow client's drops come one frame each, thousands of them, and must not push the rest (a
   * reconnect's replay that came short) out of sight.
   */
  addGap(gap: Gap): void {
    this.gaps++;
    this.lost += gap.lost;
    const stream = Stream[gap.stream] ?? String(gap.stream);
    const key = `${stream} ${gap.reason}`;
    const known = this.gapNotices.get(key);
    const notice: GapNotice = known ?? {
      stream,
      reason: gap.reason,
      fromSeq: gap.fromSeq,
      toSeq: 0n,
      lost: 0n,
      frames: 0,
      at: 0,
    };
    notice.toSeq = gap.toSeq;
    notice.lost += gap.lost;
    notice.frames++;
    notice.at = Date.now();
    // Last added, last in the map's order.
    if (known) this.gapNotices.delete(key);
    this.gapNotices.set(key, notice);
    if (this.gapNotices.size > REMEMBERED) this.gapNotices.delete(this.gapNotices.keys().next().value!);
    this.gapsDue = true;
  }

  /** The gap notices and totals as of now: the NOTICES latest, newest on top. */
  private renderGaps(): void {
    this.gapsDue = false;
    this.node.dataset.gaps = String(this.gaps);
    this.node.dataset.lost = String(this.lost);
    const latest = [...this.gapNotices.values()].slice(-NOTICES).reverse();
    const els = latest.map((n) => {
      const el = document.createElement("div");
      el.className = "mevlab-gap";
      Object.assign(el.dataset, {
        stream: n.stream,
        fromSeq: String(n.fromSeq),
        toSeq: String(n.toSeq),
        lost: String(n.lost),
        reason: n.reason,
        frames: String(n.frames),
      });
      el.textContent = gapText(n);
      return el;
    });
    this.notices.node.replaceChildren(...els);
    if (els.length !== this.noticeLines) {
      this.noticeLines = els.length;
      BoxLayout.setSizeBasis(this.notices, els.length * 20);
      this.fit();
    }
  }

  private renderCounts(now: number): void {
    this.rangeAt = now;
    this._range = this.model.range();
    const d = this.node.dataset;
    d.shown = String(this.model.kept);
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

function gapText(n: GapNotice): string {
  const times = n.frames === 1 ? "" : ` (${n.frames} gaps)`;
  const at = formatTime(n.at);
  return n.lost !== 0n
    ? `${at} · ${n.lost} events not received, seq ${n.fromSeq}–${n.toSeq}${times}: ${n.reason}`
    : `${at} · events may be missing${times}: ${n.reason}`;
}
