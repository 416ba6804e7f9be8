import type { ShadowCandidate } from "@mevlab/proto";
import type { ShadowView } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";
import { errorText, modelText, num } from "./policy-view";

const POLL_MS = 2000;

type Window = ShadowView["windows"][number];
type Side = Window["live"];

/** Rows of a window's table: per side (live, shadow), or one value for both. */
const SIDE_ROWS: ReadonlyArray<[string, string, (s: Side) => string]> = [
  ["ev_sol", "counterfactual net SOL", (s) => num(s.ev_sol, 6)],
  ["accepted", "accepted", (s) => String(s.accepted)],
  ["brier", "Brier", (s) => num(s.brier)],
  ["mean_p", "mean p", (s) => num(s.mean_p)],
];
const BOTH_ROWS: ReadonlyArray<[string, string, (w: Window) => string]> = [
  ["opportunities", "opportunities scored by both", (w) => String(w.opportunities)],
  ["landed_rate", "landed rate", (w) => num(w.landed_rate)],
  ["agreement", "agreement", (w) => num(w.agreement)],
  ["ev_delta_sol", "shadow − live net SOL", (w) => num(w.ev_delta_sol, 6)],
];

/**
 * The shadow candidate against the live model on the same opportunities, over the last 60 s and 600 s,
 * polled every 2 s while the panel is visible and a shadow is deployed; Make shadow live and Drop
 * shadow for admins.
 */
export class ShadowSection {
  readonly node = el("section", { className: "mevlab-policy-shadow" });
  private readonly head = el("div", { className: "mevlab-policy-shadow-head" });
  private readonly tables = el("div", { className: "mevlab-policy-shadow-tables" });
  private readonly buttons: HTMLElement;
  private readonly liveButton = el(
    "button",
    { type: "button", className: "jp-mod-styled jp-mod-accept mevlab-policy-shadow-live" },
    "Make shadow live",
  );
  private readonly dropButton = el(
    "button",
    { type: "button", className: "jp-mod-styled jp-mod-warn mevlab-policy-shadow-drop" },
    "Drop shadow",
  );
  private candidate: ShadowCandidate | null = null;
  private visible = false;
  private timer = 0;
  private generation = 0;

  constructor(
    private readonly opts: {
      fetch: () => Promise<ShadowView>;
      end: (action: "promote" | "drop") => void;
    },
  ) {
    this.liveButton.onclick = () => opts.end("promote");
    this.dropButton.onclick = () => opts.end("drop");
    this.buttons = el("div", { className: "mevlab-policy-buttons" }, this.liveButton, this.dropButton);
    this.node.append(this.head, this.tables, this.buttons);
    this.set(null, false, false);
  }

  /** The module's shadow candidate (null: none) and who may act on it. */
  set(candidate: ShadowCandidate | null, admin: boolean, busy: boolean): void {
    const before = this.candidate?.modelId ?? "";
    this.candidate = candidate?.modelId ? candidate : null;
    this.node.dataset.active = String(this.candidate !== null);
    this.buttons.hidden = !admin || !this.candidate;
    this.liveButton.disabled = this.dropButton.disabled = busy;
    if ((this.candidate?.modelId ?? "") === before) return;
    this.tables.replaceChildren();
    this.head.textContent = this.candidate
      ? `Shadow ${modelText(this.candidate.modelId)} at ev_min ${this.candidate.evMin}, scored beside the live model:`
      : "No shadow candidate: Deploy in shadow scores a model beside the live one without acting on it.";
    this.poll();
  }

  /** The panel is shown or hidden: polling runs only while it is visible. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    this.poll();
  }

  dispose(): void {
    this.visible = false;
    this.poll();
  }

  /** (Re)starts the poll loop when it should run, stops it when it should not. */
  private poll(): void {
    const generation = ++this.generation;
    clearTimeout(this.timer);
    this.timer = 0;
    if (this.visible && this.candidate) void this.tick(generation);
  }

  private async tick(generation: number): Promise<void> {
    let view: ShadowView | string;
    try {
      view = await this.opts.fetch();
    } catch (err) {
      view = errorText(err);
    }
    if (generation !== this.generation) return;
    if (typeof view === "string") this.tables.replaceChildren(el("div", { className: "mevlab-error" }, view));
    else this.render(view);
    this.timer = window.setTimeout(() => void this.tick(generation), POLL_MS);
  }

  private render(view: ShadowView): void {
    this.node.dataset.live = view.live_model_id;
    this.node.dataset.shadow = view.shadow_model_id;
    this.tables.replaceChildren(...view.windows.map((w) => windowTable(view, w)));
  }
}

function windowTable(view: ShadowView, w: Window): HTMLTableElement {
  const sideRows = SIDE_ROWS.map(([key, label, value]) =>
    el(
      "tr",
      { dataset: { metric: key } },
      el("th", {}, label),
      el("td", { dataset: { side: "live", metric: key } }, value(w.live)),
      el("td", { dataset: { side: "shadow", metric: key } }, value(w.shadow)),
    ),
  );
  const bothRows = BOTH_ROWS.map(([key, label, value]) =>
    el(
      "tr",
      { dataset: { metric: key } },
      el("th", {}, label),
      el("td", { colSpan: 2, dataset: { side: "both", metric: key } }, value(w)),
    ),
  );
  return el(
    "table",
    { className: "mevlab-policy-shadow-table", dataset: { window: String(w.seconds) } },
    el("caption", {}, `last ${w.seconds} s`),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        el("th", {}, ""),
        el("th", {}, `live ${modelText(view.live_model_id)}`),
        el("th", {}, `shadow ${modelText(view.shadow_model_id)}`),
      ),
    ),
    el("tbody", {}, ...sideRows, ...bothRows),
  );
}
