import { Widget } from "@lumino/widgets";
import { logIn } from "./login";
import type { IMevlabConnection, LinkState } from "./tokens";

const TEXT: Record<LinkState, string> = {
  connected: "connected",
  reconnecting: "reconnecting…",
  expired: "session expired: log in",
  none: "not logged in",
};

/**
 * The session in JupyterLab's status bar, whichever panel is open: who, and whether the control
 * plane is reachable. A click logs in when there is no live session.
 */
export class SessionStatusItem extends Widget {
  constructor(
    private readonly conn: IMevlabConnection,
    private readonly url: () => string,
  ) {
    super({ node: document.createElement("button") });
    this.addClass("mevlab-status-item");
    this.node.onclick = () => {
      if (this.conn.link === "none" || this.conn.link === "expired") void logIn(this.conn, this.url());
    };
    conn.sessionChanged.connect(this.render, this);
    conn.linkChanged.connect(this.render, this);
    this.render();
  }

  override dispose(): void {
    this.conn.sessionChanged.disconnect(this.render, this);
    this.conn.linkChanged.disconnect(this.render, this);
    super.dispose();
  }

  private render(): void {
    const link = this.conn.link;
    const s = this.conn.session;
    this.node.dataset.link = link;
    this.node.textContent = `mevlab: ${s && link !== "none" ? `${s.user} (${s.role}) · ` : ""}${TEXT[link]}`;
    this.node.title = this.conn.notice || `${this.url()}: ${TEXT[link]}`;
  }
}
