import { BoxLayout, Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import type { DataGrid } from "@lumino/datagrid";
import type { Event } from "@mevlab/proto";
import { logIn } from "./login";
import { ModuleCard } from "./control";
import { killAllConfirmed } from "./kill-all";
import { OpportunityModel, createGrid } from "./live";
import { MetricsCards } from "./metrics-cards";
import type { IMevlabConnection } from "./tokens";

/** Header with the session, the two module cards and the live opportunities table. */
export class MevlabPanel extends Widget {
  private readonly header: HTMLElement;
  private readonly loginButton: HTMLButtonElement;
  private readonly killAllButton: HTMLButtonElement;
  private readonly killAllEl: HTMLElement;
  private readonly cards: ModuleCard[];
  private readonly model: OpportunityModel;
  private readonly grid: DataGrid;
  private readonly countEl: HTMLElement;
  private readonly metrics = new MetricsCards();
  private frame = 0;
  private cardsDirty = false;

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
    this.killAllButton = document.createElement("button");
    this.killAllButton.className = "jp-mod-styled jp-mod-warn mevlab-kill-all";
    this.killAllButton.textContent = "Kill all";
    this.killAllEl = document.createElement("span");
    this.killAllEl.className = "mevlab-kill-all-outcome";
    this.killAllButton.onclick = () => void this.killAll();
    top.node.append(this.header, this.loginButton, this.killAllButton, this.killAllEl);

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

    for (const w of [top, this.metrics, cards, caption]) {
      BoxLayout.setStretch(w, 0);
      BoxLayout.setSizeBasis(w, w === cards ? 230 : w === this.metrics ? 64 : 32);
      layout.addWidget(w);
    }
    BoxLayout.setStretch(this.grid, 1);
    layout.addWidget(this.grid);

    conn.sessionChanged.connect(this.renderSession, this);
    conn.linkChanged.connect(this.renderSession, this);
    conn.events.connect(this.onEvents, this);
    this.renderSession();
  }

  setMaxRows(n: number): void {
    this.model.setMaxRows(n);
    this.schedule();
  }

  override dispose(): void {
    this.conn.sessionChanged.disconnect(this.renderSession, this);
    this.conn.linkChanged.disconnect(this.renderSession, this);
    this.conn.events.disconnect(this.onEvents, this);
    cancelAnimationFrame(this.frame);
    super.dispose();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.cardsDirty = true;
    this.schedule();
  }

  private async toggleLogin(): Promise<void> {
    if (this.conn.session && this.conn.link !== "expired") this.conn.logout();
    else await logIn(this.conn, this.controlPlaneUrl());
  }

  /** Who is logged in, or why nobody is; while the control plane is unreachable, when the next try is. */
  private renderSession(): void {
    const s = this.conn.session;
    const live = s && this.conn.link !== "expired";
    const notice = this.conn.notice ? ` · ${this.conn.notice}` : "";
    this.header.textContent = live
      ? `${s.user} (${s.role}) · ${s.url}${this.conn.link === "reconnecting" ? notice : ""}`
      : `Not logged in · ${this.controlPlaneUrl()}${notice}`;
    this.header.dataset.link = this.conn.link;
    this.loginButton.textContent = live ? "Log out" : "Log in";
    this.killAllButton.style.display = live && s.role === "admin" ? "" : "none";
    for (const c of this.cards) c.render();
  }

  /** Kill all, after its confirmation; the outcome (each agent's ack) beside the button. */
  private async killAll(): Promise<void> {
    this.killAllButton.disabled = true;
    try {
      const text = await killAllConfirmed(this.conn, () => (this.killAllEl.textContent = "kill all: pending…"));
      if (text !== undefined) this.killAllEl.textContent = text;
    } finally {
      this.killAllButton.disabled = false;
    }
  }

  private onEvents(_: IMevlabConnection, events: Event[]): void {
    for (const e of events) {
      if (e.payload.case === "metricsSummary" && this.isVisible) this.metrics.update_(e.payload.value);
    }
    const added = this.model.add(events);
    if (events.some((e) => e.payload.case === "agentStatus" || e.payload.case === "controlAck")) {
      this.cardsDirty = true;
    }
    if (added || this.cardsDirty) this.schedule();
  }

  /**
   * Whatever arrived draws in the next animation frame, once: events keep buffering in between, and
   * while the panel is hidden, which then draws when shown.
   */
  private schedule(): void {
    if (this.frame || !this.isVisible) return;
    this.frame = requestAnimationFrame((now) => {
      this.frame = 0;
      if (this.isVisible) this.draw(now);
    });
  }

  private draw(now: number): void {
    if (this.cardsDirty) {
      this.cardsDirty = false;
      for (const c of this.cards) c.render();
    }
    const oldestNewTs = this.model.flush(now);
    const caption = `(${this.model.size} shown)`;
    if (this.countEl.textContent !== caption) this.countEl.textContent = caption;
    // Read by bench:ui (emit → visible): the grid paints these rows right after this frame's flush.
    if (Number.isFinite(oldestNewTs)) {
      this.node.dataset.oldestNewTs = String(oldestNewTs);
      this.node.dataset.newestTs = String(this.model.newestTs);
    }
  }
}
