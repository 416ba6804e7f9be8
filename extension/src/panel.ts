import { BoxLayout, Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import type { DataGrid } from "@lumino/datagrid";
import type { Event } from "@mevlab/proto";
import { askCredentials } from "./login";
import { ModuleCard } from "./control";
import { OpportunityModel, createGrid } from "./live";
import type { IMevlabConnection } from "./tokens";

const GRID_REFRESH_MS = 1_000;

/** Header with the session, the two module cards and the live opportunities table. */
export class MevlabPanel extends Widget {
  private readonly header: HTMLElement;
  private readonly loginButton: HTMLButtonElement;
  private readonly cards: ModuleCard[];
  private readonly model: OpportunityModel;
  private readonly grid: DataGrid;
  private readonly countEl: HTMLElement;
  private frame = 0;
  private gridTimer = 0;
  private lastGridPaint = 0;
  private cardsDirty = false;
  private gridDirty = false;

  constructor(
    private readonly conn: IMevlabConnection,
    private readonly controlPlaneUrl: () => string,
    maxRows: number,
  ) {
    super();
    this.id = "mevlab-panel";
    this.title.label = "mevlab";
    this.title.closable = true;
    this.addClass("mevlab-panel");
    const layout = new BoxLayout({ direction: "top-to-bottom", spacing: 8 });
    this.layout = layout;

    const top = new Widget();
    top.addClass("mevlab-header");
    this.header = document.createElement("span");
    this.header.className = "mevlab-session";
    this.loginButton = document.createElement("button");
    this.loginButton.className = "jp-mod-styled jp-mod-accept mevlab-login-button";
    this.loginButton.onclick = () => void this.toggleLogin();
    top.node.append(this.header, this.loginButton);

    const cards = new Widget();
    cards.addClass("mevlab-cards");
    this.cards = (["arbitrage", "mev"] as const).map((m) => new ModuleCard(m, conn));
    const cardsLayout = new BoxLayout({ direction: "left-to-right", spacing: 8 });
    cards.layout = cardsLayout;
    for (const c of this.cards) cardsLayout.addWidget(c);

    const caption = new Widget();
    caption.addClass("mevlab-caption");
    this.countEl = document.createElement("span");
    caption.node.append("Live opportunities ", this.countEl);

    this.model = new OpportunityModel(maxRows);
    this.grid = createGrid(this.model);

    for (const w of [top, cards, caption]) {
      BoxLayout.setStretch(w, 0);
      BoxLayout.setSizeBasis(w, w === cards ? 150 : 32);
      layout.addWidget(w);
    }
    BoxLayout.setStretch(this.grid, 1);
    layout.addWidget(this.grid);

    conn.sessionChanged.connect(this.renderSession, this);
    conn.events.connect(this.onEvents, this);
    this.renderSession();
  }

  setMaxRows(n: number): void {
    this.model.setMaxRows(n);
  }

  override dispose(): void {
    this.conn.sessionChanged.disconnect(this.renderSession, this);
    this.conn.events.disconnect(this.onEvents, this);
    cancelAnimationFrame(this.frame);
    window.clearTimeout(this.gridTimer);
    super.dispose();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.cardsDirty = true;
    this.schedule();
  }

  private async toggleLogin(): Promise<void> {
    if (this.conn.session) {
      this.conn.logout();
      return;
    }
    let message = this.conn.notice;
    for (;;) {
      const creds = await askCredentials(this.controlPlaneUrl(), message);
      if (!creds) return;
      try {
        await this.conn.login(creds.username, creds.password);
        return;
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
    }
  }

  private renderSession(): void {
    const s = this.conn.session;
    this.header.textContent = s
      ? `${s.user} (${s.role}) · ${s.url}`
      : `Not logged in · ${this.controlPlaneUrl()}${this.conn.notice ? ` · ${this.conn.notice}` : ""}`;
    this.loginButton.textContent = s ? "Log out" : "Log in";
    for (const c of this.cards) c.render();
  }

  private onEvents(_: IMevlabConnection, events: Event[]): void {
    if (this.model.add(events)) this.gridDirty = true;
    if (events.some((e) => e.payload.case === "agentStatus" || e.payload.case === "controlAck")) {
      this.cardsDirty = true;
    }
    this.schedule();
  }

  /**
   * Cards render once per animation frame; the grid at most every GRID_REFRESH_MS, because a full
   * canvas repaint is costly where the browser has no GPU. Nothing renders while the panel is hidden.
   */
  private schedule(): void {
    if (!this.isVisible) return;
    if (this.cardsDirty && !this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.cardsDirty = false;
        for (const c of this.cards) c.render();
      });
    }
    if (this.gridDirty && !this.gridTimer) {
      const wait = Math.max(0, this.lastGridPaint + GRID_REFRESH_MS - performance.now());
      this.gridTimer = window.setTimeout(() => {
        this.gridTimer = 0;
        requestAnimationFrame(() => this.paintGrid());
      }, wait);
    }
  }

  private paintGrid(): void {
    if (!this.isVisible) return;
    this.gridDirty = false;
    this.lastGridPaint = performance.now();
    this.model.refresh();
    this.countEl.textContent = `(${this.model.size} shown)`;
    const { newestTs, oldestNewTs } = this.model.takePainted();
    // Read by bench:ui (emit → visible): set last, so an observer of data-newest-ts sees both.
    if (Number.isFinite(oldestNewTs)) this.node.dataset.oldestNewTs = String(oldestNewTs);
    this.node.dataset.newestTs = String(newestTs);
  }
}
