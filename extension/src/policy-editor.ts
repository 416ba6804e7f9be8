import type { Policy } from "@mevlab/proto";
import {
  validatePolicy,
  type ModelSummary,
  type PolicyFields,
  type PolicyProblem,
} from "@mevlab/kernel-helpers/client";
import { el } from "./dom";
import { ladderText, modelText, num } from "./policy-view";

/** What the editor holds: the picked model, the fields as typed, and what the shared rules say of them. */
export interface PolicyDraft {
  modelId: string;
  fields: Required<PolicyFields> & { kill: boolean };
  problems: PolicyProblem[];
}

/** One changed field: current → new. */
export interface DiffRow {
  field: string;
  from: string;
  to: string;
}

type FieldName = "ev_min" | "tip_ladder" | "throttle_pct";

const FIELDS: ReadonlyArray<[FieldName, string, string]> = [
  ["ev_min", "ev_min (SOL)", "e.g. 0.0004"],
  ["tip_ladder", "tip ladder (quantiles, comma-separated)", "e.g. 0.5, 0.7, 0.9"],
  ["throttle_pct", "throttle (0–100 %)", "0"],
];

/** An empty field is no number: the rules then name it instead of reading it as 0. */
function parseNumber(text: string): number {
  const t = text.trim();
  return t === "" ? NaN : Number(t);
}

function parseLadder(text: string): number[] {
  return text.trim() === "" ? [] : text.split(",").map(parseNumber);
}

/**
 * The policy editor: ev_min, tip ladder, throttle, kill and the model, checked as typed by
 * validatePolicy() (the rules the control plane and the agents apply), and the diff against the
 * version in force. Promote and Deploy in shadow are the panel's to carry out.
 */
export class PolicyEditor {
  readonly node: HTMLFormElement;
  private readonly inputs = new Map<FieldName, HTMLInputElement>();
  private readonly problems = new Map<FieldName, HTMLElement>();
  private readonly kill = el("input", { type: "checkbox", name: "kill" });
  private readonly model = el("select", { className: "jp-mod-styled", name: "model" });
  private readonly diffBody = el("tbody");
  private readonly diffNote = el("p", { className: "mevlab-policy-diff-note" });
  private readonly promoteButton = el(
    "button",
    { type: "button", className: "jp-mod-styled jp-mod-accept mevlab-policy-promote" },
    "Promote (live)",
  );
  private readonly shadowButton = el(
    "button",
    { type: "button", className: "jp-mod-styled mevlab-policy-shadow-deploy" },
    "Deploy in shadow",
  );
  private readonly buttons = el("div", { className: "mevlab-policy-buttons" }, this.promoteButton, this.shadowButton);
  private current: Policy | null = null;
  private models: ModelSummary[] = [];
  private edited = false;
  private admin = false;
  private busy = false;

  constructor(actions: { promote: () => void; shadow: () => void }) {
    const rows = FIELDS.map(([name, label, placeholder]) => {
      const input = el("input", { type: "text", name, className: "jp-mod-styled", placeholder, autocomplete: "off" });
      const problem = el("div", { className: "mevlab-policy-problem", dataset: { field: name }, role: "alert" });
      this.inputs.set(name, input);
      this.problems.set(name, problem);
      return el("label", { className: "mevlab-field" }, el("span", {}, label), input, problem);
    });
    this.node = el(
      "form",
      { className: "mevlab-policy-editor" },
      el("label", { className: "mevlab-field mevlab-policy-model-field" }, el("span", {}, "model"), this.model),
      ...rows,
      el("label", { className: "mevlab-policy-kill" }, this.kill, "kill (the agents stop sending)"),
      el(
        "table",
        { className: "mevlab-policy-diff" },
        el("thead", {}, el("tr", {}, ...["field", "current", "new"].map((h) => el("th", {}, h)))),
        this.diffBody,
      ),
      this.diffNote,
      this.buttons,
    );
    this.node.onsubmit = (e) => e.preventDefault();
    this.node.oninput = () => {
      this.edited = true;
      this.update();
    };
    this.promoteButton.onclick = () => actions.promote();
    this.shadowButton.onclick = () => actions.shadow();
  }

  /** The version in force; the fields take its values unless the user has typed since (or `reset`). */
  setCurrent(policy: Policy | null, reset = false): void {
    this.current = policy;
    if (policy && (reset || !this.edited)) this.fill(policy);
    else this.renderPicker();
    this.update();
  }

  setModels(models: ModelSummary[]): void {
    this.models = models;
    this.renderPicker();
    this.update();
  }

  /** Admins edit and act; viewers see the same fields read-only and no buttons. */
  setAccess(admin: boolean, busy: boolean): void {
    this.admin = admin;
    for (const c of this.node.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select")) {
      c.disabled = !admin;
    }
    this.buttons.hidden = !admin;
    this.busy = busy;
    this.update();
  }

  draft(): PolicyDraft {
    const fields = {
      ev_min: parseNumber(this.inputs.get("ev_min")!.value),
      tip_ladder: parseLadder(this.inputs.get("tip_ladder")!.value),
      throttle_pct: parseNumber(this.inputs.get("throttle_pct")!.value),
      kill: this.kill.checked,
    };
    return { modelId: this.model.value, fields, problems: validatePolicy(fields) };
  }

  /** The fields that differ from the version in force, as the promotion sends them (absent: carried over). */
  changes(): { modelId?: string; policy: PolicyFields & { kill?: boolean } } {
    const d = this.draft();
    const p = this.current;
    const policy: PolicyFields & { kill?: boolean } = {};
    if (!p) return { modelId: d.modelId || undefined, policy: d.fields };
    if (d.fields.ev_min !== p.evMin) policy.ev_min = d.fields.ev_min;
    if (ladderText(d.fields.tip_ladder) !== ladderText(p.tipLadder)) policy.tip_ladder = d.fields.tip_ladder;
    if (d.fields.throttle_pct !== p.throttlePct) policy.throttle_pct = d.fields.throttle_pct;
    if (d.fields.kill !== p.kill) policy.kill = d.fields.kill;
    return { modelId: d.modelId && d.modelId !== p.modelId ? d.modelId : undefined, policy };
  }

  diff(): DiffRow[] {
    const p = this.current;
    if (!p) return [];
    const d = this.draft();
    const rows: DiffRow[] = [
      { field: "model", from: this.modelName(p.modelId), to: this.modelName(d.modelId) },
      { field: "ev_min", from: String(p.evMin), to: String(d.fields.ev_min) },
      { field: "tip_ladder", from: ladderText(p.tipLadder), to: ladderText(d.fields.tip_ladder) },
      { field: "throttle_pct", from: String(p.throttlePct), to: String(d.fields.throttle_pct) },
      { field: "kill", from: p.kill ? "on" : "off", to: d.fields.kill ? "on" : "off" },
    ];
    return rows.filter((r) => r.from !== r.to);
  }

  /** The diff as a table of its own, for the confirmation dialog. */
  diffTable(rows: DiffRow[] = this.diff()): HTMLTableElement {
    return el(
      "table",
      { className: "mevlab-policy-diff" },
      el("thead", {}, el("tr", {}, ...["field", "current", "new"].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...rows.map(diffRow)),
    );
  }

  modelName(id: string): string {
    return modelText(id, this.models.find((m) => m.id === id)?.model);
  }

  private fill(p: Policy): void {
    this.inputs.get("ev_min")!.value = String(p.evMin);
    this.inputs.get("tip_ladder")!.value = ladderText(p.tipLadder);
    this.inputs.get("throttle_pct")!.value = String(p.throttlePct);
    this.kill.checked = p.kill;
    this.edited = false;
    this.renderPicker(p.modelId);
  }

  /** The store's models for the module, newest first, and the model in force even when the store lacks it. */
  private renderPicker(pick = this.model.value): void {
    const live = this.current?.modelId ?? "";
    const options = this.models.map((m) => {
      const auc = num(m.metrics?.test?.auc);
      const label = `${modelText(m.id, m.model)} · test AUC ${auc} · ${m.created_at}${m.id === live ? " (live)" : ""}`;
      return el("option", { value: m.id }, label);
    });
    if (!this.models.some((m) => m.id === live)) {
      options.unshift(
        el(
          "option",
          { value: live },
          live ? `${modelText(live)} (live, not in the store)` : "built-in estimate (live)",
        ),
      );
    }
    this.model.replaceChildren(...options);
    this.model.value = [...this.model.options].some((o) => o.value === pick) ? pick : live;
  }

  /** Inline problems per field, the diff, and which buttons may be pressed. */
  private update(): void {
    const d = this.draft();
    for (const [name, node] of this.problems) {
      const mine = d.problems.filter((p) => p.field.replace(/\[\d+\]$/, "") === name);
      node.textContent = mine.map((p) => p.message).join("; ");
      this.inputs.get(name)!.classList.toggle("mevlab-policy-invalid", mine.length > 0);
    }
    const rows = this.diff();
    this.diffBody.replaceChildren(...rows.map(diffRow));
    this.diffNote.textContent = rows.length ? "" : "No changes against the version in force.";
    const evProblem = d.problems.some((p) => p.field === "ev_min");
    this.promoteButton.disabled = !this.admin || this.busy || d.problems.length > 0 || rows.length === 0;
    this.shadowButton.disabled = !this.admin || this.busy || evProblem || !d.modelId;
  }
}

function diffRow(r: DiffRow): HTMLTableRowElement {
  return el(
    "tr",
    { dataset: { field: r.field } },
    el("th", {}, r.field),
    el("td", { className: "mevlab-policy-diff-from" }, r.from),
    el("td", { className: "mevlab-policy-diff-to" }, `→ ${r.to}`),
  );
}
