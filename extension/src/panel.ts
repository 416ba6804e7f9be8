import { BoxLayout, Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import type { Event } from "@mevlab/proto";
import { logIn } from "./login";
import { ModuleCard } from "./control";
import { killAllConfirmed } from "./kill-all";
import type { LiveFilters } from "./live-feed";
import { LiveStream } from "./live-stream";
import type { OpenInNotebookArgs } from "./open-in-notebook-cell";
import { MetricsCards } from "./metrics-cards";
import type { IMevlabConnection } from "./tokens";

export interface MevlabPanelOptions {
  /** The live stream's filters at start (settings defaultDexes, defaultMinNetSol). */
  filters?: LiveFilters;
  /** Open in notebook: the command of that name, given the current tab's module, filters and time range. */
  openInNotebook?: (args: OpenInNotebookArgs) => void;
}

/** Header with the session, the two module cards, the metric cards and the live stream. */
export class MevlabPanel extends Widget {
  private readonly header: HTMLElement;
  private readonly loginButton: HTMLButtonElement;
  private readonly killAllButton: HTMLButtonElement;
  private readonly killAllEl: HTMLElement;
  private readonly cards: ModuleCard[];
  private readonly live: LiveStream;
  private readonly metrics = new MetricsCards();
  private frame = 0;
  private cardsDirty = false;
  /** The session the live stream is open for ("" none: logged out or expired). */
  private liveSession = "";
  /** The session (url and user) whose rows the live stream shows ("" none). */
  private liveRows = "";

  constructor(
    private readonly conn: IMevlabConnection,
    private readonly controlPlaneUrl: () => string,
    maxRows: number,
    options: MevlabPanelOptions = {},
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

    this.live = new LiveStream({
      maxRows,
      filters: options.filters ?? { dexes: [], minNetSol: null },
      openInNotebook: options.openInNotebook,
      onPainted: (oldestNewTs, newestTs) => {
        // Read by bench:ui (emit → visible): the grid paints these rows right after this frame's flush.
        this.node.dataset.oldestNewTs = String(oldestNewTs);
        this.node.dataset.newestTs = String(newestTs);
      },
    });

    for (const w of [top, this.metrics, cards]) {
      BoxLayout.setStretch(w, 0);
      BoxLayout.setSizeBasis(w, w === cards ? 230 : w === this.metrics ? 64 : 32);
      layout.addWidget(w);
    }
    BoxLayout.setStretch(this.live, 1);
    layout.addWidget(this.live);

    conn.sessionChanged.connect(this.renderSession, this);
    conn.linkChanged.connect(this.renderSession, this);
    conn.events.connect(this.onEvents, this);
    this.renderSession();
  }

  setMaxRows(n: number): void {
    this.live.setMaxRows(n);
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
    this.openLive();
  }

  /**
   * The live stream's own socket follows the session: opened at login, closed at logout and while the
   * session is expired. A new session (logout, another user or control plane) empties the stream: a
   * viewer never sees an admin's rows; the same user's expired session carried on (no sessionChanged)
   * keeps everything and resumes after the last event seen.
   */
  private openLive(): void {
    const s = this.conn.session;
    if (!s && this.liveRows) {
      this.liveRows = "";
      this.live.reset();
    }
    const key = s && this.conn.link !== "expired" ? `${s.url} ${s.user}` : "";
    if (key === this.liveSession) return;
    this.liveSession = key;
    if (!key) {
      this.live.setSession(null);
      return;
    }
    const resume = key === this.liveRows;
    this.liveRows = key;
    const client = this.conn.controlPlane();
    this.live.setSession({ url: client.url, token: () => client.freshToken() }, resume);
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
    if (events.some((e) => e.payload.case === "agentStatus" || e.payload.case === "controlAck")) {
      this.cardsDirty = true;
    }
    if (this.cardsDirty) this.schedule();
  }

  /**
   * Whatever arrived draws in the next animation frame, once: events keep buffering in between, and
   * while the panel is hidden, which then draws when shown.
   */
  private schedule(): void {
    if (this.frame || !this.isVisible) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.isVisible) this.draw();
    });
  }

  private draw(): void {
    if (this.cardsDirty) {
      this.cardsDirty = false;
      for (const c of this.cards) c.render();
    }
  }
}
