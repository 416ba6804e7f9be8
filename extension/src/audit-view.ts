import { el } from "./dom";

/** One audit record as GET /api/audit returns it (every field may be missing from an old record). */
export interface AuditRecord {
  ts?: string;
  user?: string;
  role?: string;
  action?: string;
  target?: string;
  outcome?: string;
  reason?: string;
  request_id?: string;
  ip?: string;
}

export interface AuditList {
  records: AuditRecord[];
  matched: number;
  scanned: number;
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  problems: string[];
  notes: string[];
}

const COLUMNS = ["ts", "user", "role", "action", "target", "outcome", "reason", "ip"] as const;
const HEADINGS = ["Time", "User", "Role", "Action", "Target", "Outcome", "Reason", "IP"];
const MODULES = [
  ["", "any module"],
  ["arbitrage", "Arbitrage"],
  ["mev", "MEV Sandwich"],
] as const;
const OUTCOMES = [
  ["", "any outcome"],
  ["accepted", "accepted"],
  ["denied", "denied"],
  ["alert", "alert"],
] as const;

/** A record's time as the table shows it: local, to the second, with the full ISO time on hover. */
function timeCell(ts: string | undefined): HTMLTableCellElement {
  const t = ts ? new Date(ts) : null;
  const text = t && !Number.isNaN(t.getTime()) ? t.toLocaleString() : (ts ?? "");
  return el("td", { className: "mevlab-audit-time", title: ts ?? "", dataset: { col: "ts" } }, text);
}

/** The filters form: user, module, action, outcome, from and to; `query()` is its query string. */
export class AuditFilters {
  readonly node: HTMLFormElement;

  constructor(apply: () => void, exportCsv: () => void) {
    const input = (name: string, attrs: Partial<Omit<HTMLInputElement, "dataset">> = {}) =>
      el("input", { name, className: "jp-mod-styled", ...attrs });
    const select = (name: string, options: ReadonlyArray<readonly [string, string]>) =>
      el("select", { name, className: "jp-mod-styled" }, ...options.map(([v, l]) => el("option", { value: v }, l)));
    const field = (label: string, control: HTMLElement) =>
      el("label", { className: "mevlab-audit-field" }, el("span", {}, label), control);
    const exportButton = el("button", { type: "button", className: "jp-mod-styled mevlab-audit-export" }, "Export CSV");
    exportButton.onclick = exportCsv;
    this.node = el(
      "form",
      { className: "mevlab-audit-filters" },
      field("User", input("user", { placeholder: "any user" })),
      field("Module", select("module", MODULES)),
      field("Action", input("action", { placeholder: "exact, or a prefix ending in ." })),
      field("Outcome", select("outcome", OUTCOMES)),
      field("From", input("from", { type: "datetime-local", step: "1" })),
      field("To", input("to", { type: "datetime-local", step: "1" })),
      el("button", { type: "submit", className: "jp-mod-styled jp-mod-accept mevlab-audit-apply" }, "Apply"),
      exportButton,
    );
    this.node.onsubmit = (e) => {
      e.preventDefault();
      apply();
    };
  }

  /** The filters as GET /api/audit's query (without the limit); from and to as ms, read in local time. */
  query(): URLSearchParams {
    const q = new URLSearchParams();
    const value = (name: string) =>
      (this.node.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
    for (const name of ["user", "module", "action", "outcome"]) if (value(name)) q.set(name, value(name));
    for (const name of ["from", "to"]) {
      const ms = value(name) ? new Date(value(name)).getTime() : NaN;
      if (Number.isFinite(ms)) q.set(name, String(ms));
    }
    return q;
  }

  setEnabled(enabled: boolean): void {
    for (const c of Array.from(this.node.elements)) (c as HTMLInputElement).disabled = !enabled;
  }
}

/** The records table, newest first, with how many of the matching records it shows. */
export class AuditTable {
  readonly node: HTMLElement;
  private readonly body = el("tbody");
  private readonly count = el("div", { className: "mevlab-audit-count", role: "status" });

  constructor(private readonly more: HTMLButtonElement) {
    const head = el("tr", {}, ...HEADINGS.map((h) => el("th", {}, h)));
    this.node = el(
      "div",
      { className: "mevlab-audit-records" },
      this.count,
      el("table", { className: "mevlab-audit-table" }, el("thead", {}, head), this.body),
      more,
    );
    this.clear();
  }

  show(list: AuditList): void {
    this.body.replaceChildren(...list.records.map((r) => this.row(r)));
    const shown = list.records.length;
    this.count.textContent =
      list.matched === 0
        ? `no records match (${list.scanned} read)`
        : `${shown} of ${list.matched} matching records, newest first (${list.scanned} read)`;
    this.count.dataset.shown = String(shown);
    this.count.dataset.matched = String(list.matched);
    this.more.hidden = shown >= list.matched;
  }

  clear(): void {
    this.body.replaceChildren();
    this.count.textContent = "";
    delete this.count.dataset.shown;
    delete this.count.dataset.matched;
    this.more.hidden = true;
  }

  private row(r: AuditRecord): HTMLTableRowElement {
    const cells = COLUMNS.map((c) => (c === "ts" ? timeCell(r.ts) : el("td", { dataset: { col: c } }, r[c] ?? "")));
    return el("tr", { dataset: { outcome: r.outcome ?? "", user: r.user ?? "", action: r.action ?? "" } }, ...cells);
  }
}

/** The chain's verification: "verified: N records", or the problems with the first bad line marked. */
export class VerificationView {
  readonly node: HTMLElement;
  private readonly result = el("div", { className: "mevlab-audit-verification", role: "status" });

  constructor(
    verify: () => void,
    readonly button = el("button", { type: "button" }),
  ) {
    button.className = "jp-mod-styled mevlab-audit-verify";
    button.textContent = "Verify";
    button.onclick = verify;
    this.node = el("div", { className: "mevlab-audit-verify-area" }, button, this.result);
  }

  pending(): void {
    this.result.dataset.state = "pending";
    this.result.replaceChildren("verifying the chain…");
  }

  show(v: AuditVerification): void {
    this.result.dataset.state = v.ok ? "ok" : "broken";
    const notes = v.notes.map((n) => el("li", { className: "mevlab-audit-note" }, n));
    if (v.ok) {
      this.result.replaceChildren(
        el("div", { className: "mevlab-audit-verified" }, `verified: ${v.records} records`),
        ...(notes.length ? [el("ul", {}, ...notes)] : []),
      );
      return;
    }
    const problems = v.problems.map((p, i) =>
      el("li", { className: i === 0 ? "mevlab-audit-problem mevlab-audit-problem-first" : "mevlab-audit-problem" }, p),
    );
    this.result.replaceChildren(
      el("div", { className: "mevlab-audit-broken" }, `the chain does not verify (${v.records} records read)`),
      el("ul", { className: "mevlab-audit-problems" }, ...problems, ...notes),
    );
  }

  fail(text: string): void {
    this.result.dataset.state = "error";
    this.result.replaceChildren(el("div", { className: "mevlab-error" }, text));
  }

  clear(): void {
    delete this.result.dataset.state;
    this.result.replaceChildren();
  }
}
