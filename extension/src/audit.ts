import { Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import { el } from "./dom";
import { AuditFilters, AuditTable, VerificationView, type AuditList, type AuditVerification } from "./audit-view";
import type { IMevlabConnection } from "./tokens";
import { errorText } from "./errors";

/** Records read at first and added by each "load more"; the API answers at most 10,000. */
const PAGE = 500;
const MAX_LIMIT = 10_000;
const ADMINS_ONLY = "The audit log is for admins.";

/** The API's 403: the session's role may not read the audit log. */
function refused(err: unknown): boolean {
  return (err as { status?: unknown } | null)?.status === 403;
}

/**
 * Audit (admins): the audit log filtered by user, module, action, outcome and time, newest first,
 * with "load more", a CSV export of the same filters, and the chain's verification. Viewers are told
 * the log is for admins (the API refuses them).
 */
export class AuditPanel extends Widget {
  private limit = PAGE;
  private loadSeq = 0;
  private stale = false;
  private downloadUrl = "";
  private readonly message = el("div", { className: "mevlab-audit-message", role: "status" });
  private readonly filters: AuditFilters;
  private readonly table: AuditTable;
  private readonly verification: VerificationView;
  private readonly content: HTMLElement;

  constructor(private readonly conn: IMevlabConnection) {
    super();
    this.id = "mevlab-audit";
    this.title.label = "mevlab audit";
    this.title.closable = true;
    this.addClass("mevlab-audit");
    this.filters = new AuditFilters(
      () => void this.apply(),
      () => void this.exportCsv(),
    );
    const more = el("button", { type: "button", className: "jp-mod-styled mevlab-audit-more" }, "Load more");
    more.onclick = () => void this.loadMore();
    this.table = new AuditTable(more);
    this.verification = new VerificationView(() => void this.verify());
    this.content = el(
      "div",
      { className: "mevlab-audit-content" },
      el("h3", {}, "Chain"),
      this.verification.node,
      el("h3", {}, "Records"),
      this.filters.node,
      this.table.node,
    );
    this.node.append(this.message, this.content);
    conn.sessionChanged.connect(this.onSession, this);
    this.onSession();
  }

  override dispose(): void {
    this.conn.sessionChanged.disconnect(this.onSession, this);
    if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
    super.dispose();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.stale) this.reset();
  }

  private onSession(): void {
    this.reset();
  }

  /** Shows what the session may see; an admin's records and verification are read when the panel is visible. */
  private reset(): void {
    this.loadSeq++;
    this.table.clear();
    this.verification.clear();
    const s = this.conn.session;
    const access = !s ? "none" : s.role === "admin" ? "admin" : "viewer";
    this.node.dataset.access = access;
    this.content.hidden = access !== "admin";
    this.say(access === "none" ? "Log in (mevlab: Control & Live) to read the audit log." : "");
    if (access === "viewer") this.say(ADMINS_ONLY);
    if (access !== "admin") return;
    if (!this.isVisible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.limit = PAGE;
    void this.load();
    void this.verify();
  }

  private apply(): Promise<void> {
    this.limit = PAGE;
    return this.load();
  }

  private loadMore(): Promise<void> {
    this.limit = Math.min(this.limit + PAGE, MAX_LIMIT);
    return this.load();
  }

  private async load(): Promise<void> {
    if (!this.conn.session) return;
    const seq = ++this.loadSeq;
    const q = this.filters.query();
    q.set("limit", String(this.limit));
    this.node.dataset.loading = "true";
    try {
      const list = await this.conn.controlPlane().get<AuditList>(`/api/audit?${q.toString()}`);
      if (seq !== this.loadSeq) return;
      this.table.show(list);
      this.node.dataset.query = q.toString();
      this.say("");
    } catch (err) {
      if (seq === this.loadSeq) this.failed(err, "cannot read the audit log");
    } finally {
      if (seq === this.loadSeq) delete this.node.dataset.loading;
    }
  }

  private async verify(): Promise<void> {
    if (!this.conn.session) return;
    this.verification.pending();
    this.verification.button.disabled = true;
    try {
      this.verification.show(await this.conn.controlPlane().get<AuditVerification>("/api/audit/verify"));
    } catch (err) {
      if (refused(err)) this.failed(err, "");
      else this.verification.fail(`cannot verify the audit log: ${errorText(err)}`);
    } finally {
      this.verification.button.disabled = false;
    }
  }

  /** The filtered records as CSV, offered as a download (all that match, up to the API's limit). */
  private async exportCsv(): Promise<void> {
    if (!this.conn.session) return;
    const q = this.filters.query();
    q.set("limit", String(MAX_LIMIT));
    try {
      const csv = await this.conn.controlPlane().getText(`/api/audit/export.csv?${q.toString()}`);
      if (this.downloadUrl) URL.revokeObjectURL(this.downloadUrl);
      this.downloadUrl = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
      const stamp = new Date().toISOString().replace(/[:.]/g, "-");
      const link = el("a", { href: this.downloadUrl, download: `mevlab-audit-${stamp}.csv`, hidden: true });
      this.node.append(link);
      link.click();
      link.remove();
    } catch (err) {
      this.failed(err, "cannot export the audit log");
    }
  }

  private failed(err: unknown, what: string): void {
    if (refused(err)) {
      this.content.hidden = true;
      this.say(ADMINS_ONLY);
    } else this.say(`${what}: ${errorText(err)}`, true);
  }

  private say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle("mevlab-error", error);
  }
}
