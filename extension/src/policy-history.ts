import type { Policy } from "@mevlab/proto";
import type { LineageView } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";
import { acksText, chainView, errorText, timeText } from "./policy-view";

/** How many of the newest versions have their chain (mode, acks) fetched without being opened. */
const PREFETCH = 10;

/**
 * The module's versions, newest first: when, who, why, how it was promoted and which agents acked
 * (from each version's lineage chain, fetched for the newest and for any row opened), and Roll back
 * to any earlier version for admins.
 */
export class HistoryView {
  readonly node: HTMLElement;
  private readonly body = el("tbody");
  private readonly chains = new Map<string, LineageView | string>();
  private readonly loading = new Set<string>();
  private readonly open = new Set<string>();
  private history: Policy[] = [];
  private currentVersion = -1n;
  private admin = false;
  private busy = false;
  private generation = 0;

  constructor(
    private readonly opts: {
      chain: (version: number) => Promise<LineageView>;
      rollback: (version: number) => void;
    },
  ) {
    const head = ["version", "promoted", "author", "reason", "mode", "acks", ""];
    this.node = el(
      "table",
      { className: "mevlab-policy-history" },
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
      this.body,
    );
  }

  /** Forgets every chain (another module, another session). */
  reset(): void {
    this.generation++;
    this.loading.clear();
    this.chains.clear();
    this.open.clear();
    this.history = [];
    this.render();
  }

  set(history: Policy[], currentVersion: bigint, admin: boolean, busy: boolean): void {
    this.history = [...history].sort((a, b) => Number(b.version - a.version));
    this.currentVersion = currentVersion;
    this.admin = admin;
    this.busy = busy;
    for (const p of this.history.slice(0, PREFETCH)) this.load(String(p.version));
    for (const v of this.open) this.load(v);
    this.render();
  }

  /** A chain is kept once its request is final: until then its acks may still change. */
  private load(version: string): void {
    const known = this.chains.get(version);
    if (this.loading.has(version) || (known && (typeof known === "string" || known.request_state !== "pending"))) {
      return;
    }
    this.loading.add(version);
    const generation = this.generation;
    this.opts.chain(Number(version)).then(
      (l) => this.loaded(generation, version, l),
      (err: unknown) => this.loaded(generation, version, errorText(err)),
    );
  }

  private loaded(generation: number, version: string, chain: LineageView | string): void {
    if (generation !== this.generation) return;
    this.loading.delete(version);
    if (!this.history.some((p) => String(p.version) === version)) return;
    this.chains.set(version, chain);
    this.render();
  }

  private render(): void {
    this.body.replaceChildren(...this.history.flatMap((p) => this.rows(p)));
  }

  private rows(p: Policy): HTMLTableRowElement[] {
    const v = String(p.version);
    const chain = this.chains.get(v);
    const l = typeof chain === "object" ? chain : undefined;
    const current = p.version === this.currentVersion;
    const details = el(
      "button",
      { type: "button", className: "jp-mod-styled mevlab-policy-details", dataset: { version: v } },
      this.open.has(v) ? "Hide" : "Details",
    );
    details.onclick = () => this.toggle(v);
    const actions = el("td", {}, details);
    if (this.admin && !current) {
      const back = el(
        "button",
        { type: "button", className: "jp-mod-styled jp-mod-warn mevlab-policy-rollback", dataset: { version: v } },
        "Roll back",
      );
      back.disabled = this.busy;
      back.onclick = () => this.opts.rollback(Number(p.version));
      actions.append(back);
    }
    const row = el(
      "tr",
      { dataset: { version: v, mode: l?.mode ?? "" }, className: current ? "mevlab-policy-live-row" : "" },
      el("td", {}, current ? `${v} (live)` : v),
      el("td", {}, timeText(Number(p.createdAt))),
      el("td", {}, p.author || "–"),
      el("td", { className: "mevlab-policy-reason-cell" }, p.reason || "–"),
      el("td", { className: "mevlab-policy-mode" }, l?.mode ?? (this.loading.has(v) ? "…" : "")),
      el("td", { className: "mevlab-policy-acks" }, l ? acksText(l) : typeof chain === "string" ? chain : ""),
      actions,
    );
    if (!this.open.has(v)) return [row];
    const inner = l ? chainView(l) : el("div", {}, typeof chain === "string" ? chain : "loading…");
    return [row, el("tr", { className: "mevlab-policy-chain-row" }, el("td", { colSpan: 7 }, inner))];
  }

  private toggle(version: string): void {
    if (this.open.has(version)) this.open.delete(version);
    else {
      this.open.add(version);
      this.load(version);
    }
    this.render();
  }
}

/** `datetime-local`'s value for a time, to the millisecond, in local time (as the input shows it). */
export function localInputValue(ms: number): string {
  return timeText(ms).replace(" ", "T");
}

/** "What was live then?": a time picker answered by the lineage of the version in force at that time. */
export class LineageAt {
  readonly node: HTMLElement;
  private readonly input = el("input", {
    type: "datetime-local",
    name: "lineage-at",
    className: "jp-mod-styled",
    step: "0.001",
  });
  private readonly result = el("div", { className: "mevlab-policy-at-result" });
  private seq = 0;

  constructor(private readonly ask: (at: number) => Promise<LineageView>) {
    this.input.value = localInputValue(Date.now());
    const button = el(
      "button",
      { type: "button", className: "jp-mod-styled mevlab-policy-at-button" },
      "What was live?",
    );
    button.onclick = () => void this.query();
    const now = el("button", { type: "button", className: "jp-mod-styled mevlab-policy-at-now" }, "Now");
    now.onclick = () => {
      this.input.value = localInputValue(Date.now());
      void this.query();
    };
    this.node = el(
      "div",
      { className: "mevlab-policy-at" },
      el("div", { className: "mevlab-policy-at-pick" }, this.input, button, now),
      this.result,
    );
  }

  clear(): void {
    this.seq++;
    this.result.replaceChildren();
    delete this.result.dataset.at;
  }

  private async query(): Promise<void> {
    const at = new Date(this.input.value).getTime();
    const seq = ++this.seq;
    if (!Number.isFinite(at)) {
      this.result.replaceChildren(el("div", { className: "mevlab-error" }, "pick a date and time"));
      return;
    }
    this.result.dataset.state = "loading";
    try {
      const l = await this.ask(at);
      if (seq !== this.seq) return;
      this.result.replaceChildren(el("div", {}, `In force at ${timeText(at)}:`), chainView(l));
    } catch (err) {
      if (seq !== this.seq) return;
      this.result.replaceChildren(el("div", { className: "mevlab-error" }, errorText(err)));
    }
    this.result.dataset.at = String(at);
    this.result.dataset.state = "done";
  }
}
