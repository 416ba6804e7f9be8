import { PolicySchema, fromWireJson, type JsonValue, type Policy } from "@mevlab/proto";
import type { LineageView, ModelCard, SplitMetrics } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";

export { errorText } from "./errors";

/** A number as the Policy panel shows it, "–" when there is none. */
export function num(v: unknown, digits = 4): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

/** Local time to the millisecond, as the time picker takes it: `2026-11-30 14:32:05.123`. */
export function timeText(ms: number): string {
  if (!ms) return "–";
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${date} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A model id as lists show it; "" is the agents' built-in estimate. */
export function modelText(id: string, kind?: string | null): string {
  if (!id) return "built-in estimate";
  return kind ? `${kind} · ${id.slice(0, 12)}` : id.slice(0, 12);
}

export function ladderText(ladder: readonly number[]): string {
  return ladder.join(", ");
}

/** A version's fields on one line: `ev_min 0.0003 · ladder 0.5, 0.9 · throttle 0% · kill off`. */
export function policyText(p: Policy): string {
  return `ev_min ${p.evMin} · ladder ${ladderText(p.tipLadder)} · throttle ${p.throttlePct}% · kill ${p.kill ? "on" : "off"}`;
}

/** A definition list whose values carry `data-fact` (the UI test reads them by name). */
export function facts(className: string, pairs: Array<[string, string]>): HTMLDListElement {
  return el(
    "dl",
    { className: `mevlab-policy-facts ${className}` },
    ...pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { fact: k } }, v)]),
  );
}

function testMetrics(metrics: unknown): SplitMetrics {
  return ((metrics as { test?: SplitMetrics } | null)?.test ?? {}) as SplitMetrics;
}

/** The module's policy in force and its model card's summary. */
export function currentView(p: Policy, card: ModelCard | null): HTMLElement {
  const test = testMetrics(card?.metrics);
  const shadow = p.shadow?.modelId ? `${modelText(p.shadow.modelId)} at ev_min ${p.shadow.evMin}` : "none";
  return el(
    "section",
    { className: "mevlab-policy-current", dataset: { version: String(p.version), model: p.modelId } },
    facts("mevlab-policy-current-facts", [
      ["version", String(p.version)],
      ["ev_min", String(p.evMin)],
      ["tip ladder", ladderText(p.tipLadder)],
      ["throttle", `${p.throttlePct}%`],
      ["kill", p.kill ? "on" : "off"],
      ["model id", p.modelId || "built-in estimate"],
      ["shadow", shadow],
      ["promoted", `${timeText(Number(p.createdAt))} by ${p.author || "–"}`],
    ]),
    card
      ? facts("mevlab-policy-card", [
          ["model type", card.model],
          ["created", card.created_at ?? "–"],
          ["test AUC", num(test.auc)],
          ["test log loss", num(test.logloss)],
          ["features", (card.features ?? []).join(", ")],
        ])
      : el("p", { className: "mevlab-policy-note" }, p.modelId ? "model card unavailable" : "no model card"),
  );
}

/** Which agents acked a version, and how: `arbitrage-1 applied, arbitrage-2 applied`. */
export function acksText(l: LineageView): string {
  if (!l.acks.length) return l.request_id ? (l.request_state ?? "no record") : "–";
  return [...l.acks]
    .sort((x, y) => x.agent_id.localeCompare(y.agent_id))
    .map((a) => `${a.agent_id} ${a.outcome}${a.reason ? ` (${a.reason})` : ""}`)
    .join(", ");
}

/** One version's chain: what it was, the model and its data, who and why, which agents took it. */
export function chainView(l: LineageView): HTMLElement {
  const p = fromWireJson(PolicySchema, l.policy as JsonValue);
  const dataset = l.dataset as { id?: string; rows?: number } | null;
  return el(
    "div",
    { className: "mevlab-policy-chain", dataset: { version: l.version, model: l.model?.id ?? "" } },
    facts("mevlab-policy-chain-facts", [
      ["version", l.version],
      ["mode", l.mode],
      ["promoted", timeText(l.created_at)],
      ["author", l.author],
      ["reason", l.reason || "–"],
      ["model", l.model ? modelText(l.model.id, l.model.model) : "built-in estimate"],
      ["model id", l.model?.id ?? ""],
      ["test AUC", num(testMetrics(l.model?.metrics).auc)],
      ["dataset", dataset?.id ? `${dataset.id}${dataset.rows ? ` (${dataset.rows} rows)` : ""}` : "–"],
      ["policy", policyText(p)],
      ["shadow", l.shadow_model ? modelText(l.shadow_model.id, l.shadow_model.model) : "none"],
      ["notebook", l.notebook || "–"],
      ["acks", acksText(l)],
    ]),
  );
}
