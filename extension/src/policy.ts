import { Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import { Action, Module, type ControlRequest, type Event } from "@mevlab/proto";
import {
  PromotionError,
  endShadow,
  lineage,
  lineageVersion,
  promote,
  shadowComparison,
  type ControlPlaneClient,
  type ModelCard,
  type ModelSummary,
  type ModuleName,
  type PolicyView,
} from "@mevlab/kernel-helpers/client";
import { el } from "./dom";
import { askReason, OutcomeView } from "./policy-actions";
import { PolicyEditor } from "./policy-editor";
import { HistoryView, LineageAt } from "./policy-history";
import { ShadowSection } from "./policy-shadow";
import { currentView, errorText, modelText } from "./policy-view";
import type { IMevlabConnection } from "./tokens";

const MODULES: ReadonlyArray<[ModuleName, string]> = [
  ["arbitrage", "Arbitrage"],
  ["mev", "MEV Sandwich"],
];

/** How long after a policy ack from elsewhere the panel reloads: the acks of one change come together. */
const RELOAD_MS = 300;

/** A policy change as the panel carries it out: its label, and the call that resolves when every agent acked. */
interface Change {
  label: string;
  run: (client: ControlPlaneClient) => Promise<{ request: ControlRequest; version: number }>;
}

/**
 * Policy: per module, the version in force with its model card, the editor (checked as typed, diffed
 * against the version in force) with Promote and Deploy in shadow, the history with each version's
 * lineage and Roll back, the shadow comparison, and what was live at any time. Admins act (each change
 * with a reason, followed per agent to its ack); viewers see the same, read-only.
 */
export class PolicyPanel extends Widget {
  private module: ModuleName = "arbitrage";
  private view: PolicyView | null = null;
  private busy = false;
  private loadSeq = 0;
  private reloadTimer = 0;
  private stale = false;
  private readonly cards = new Map<string, ModelCard>();
  private readonly tabs: HTMLButtonElement[];
  private readonly message = el("div", { className: "mevlab-policy-message", role: "status" });
  private readonly currentArea = el("div", { className: "mevlab-policy-current-area" });
  private readonly outcome = new OutcomeView();
  private readonly editor: PolicyEditor;
  private readonly history: HistoryView;
  private readonly shadow: ShadowSection;
  private readonly at: LineageAt;

  constructor(private readonly conn: IMevlabConnection) {
    super();
    this.id = "mevlab-policy";
    this.title.label = "mevlab policy";
    this.title.closable = true;
    this.addClass("mevlab-policy");
    this.tabs = MODULES.map(([m, label]) => {
      const b = el(
        "button",
        { type: "button", className: "jp-mod-styled mevlab-policy-tab", dataset: { module: m } },
        label,
      );
      b.onclick = () => this.selectModule(m);
      return b;
    });
    this.editor = new PolicyEditor({
      promote: () => void this.promote("live"),
      shadow: () => void this.promote("shadow"),
    });
    this.history = new HistoryView({
      chain: (v) => lineageVersion(this.conn.controlPlane(), this.module, v),
      rollback: (v) => void this.rollback(v),
    });
    this.shadow = new ShadowSection({
      fetch: () => shadowComparison(this.conn.controlPlane(), this.module),
      end: (action) => void this.endShadow(action),
    });
    this.at = new LineageAt((t) => lineage(this.conn.controlPlane(), this.module, t));
    this.node.append(
      el("div", { className: "mevlab-policy-tabs", role: "tablist" }, ...this.tabs),
      this.message,
      el("h3", {}, "In force"),
      this.currentArea,
      el("h3", {}, "Edit and promote"),
      this.editor.node,
      this.outcome.node,
      el("h3", {}, "Shadow"),
      this.shadow.node,
      el("h3", {}, "History"),
      this.history.node,
      el("h3", {}, "What was live then?"),
      this.at.node,
    );
    conn.events.connect(this.onEvents, this);
    conn.sessionChanged.connect(this.onSession, this);
    this.onSession();
  }

  override dispose(): void {
    this.conn.events.disconnect(this.onEvents, this);
    this.conn.sessionChanged.disconnect(this.onSession, this);
    clearTimeout(this.reloadTimer);
    this.shadow.dispose();
    super.dispose();
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.shadow.setVisible(true);
    if (this.stale) void this.reload();
  }

  protected override onBeforeHide(msg: Message): void {
    super.onBeforeHide(msg);
    this.shadow.setVisible(false);
  }

  protected override onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.shadow.setVisible(this.isVisible);
  }

  protected override onBeforeDetach(msg: Message): void {
    this.shadow.setVisible(false);
    super.onBeforeDetach(msg);
  }

  private get admin(): boolean {
    return this.conn.session?.role === "admin";
  }

  private onSession(): void {
    this.selectModule(this.module, true);
  }

  private selectModule(module: ModuleName, force = false): void {
    if (module === this.module && !force) return;
    this.module = module;
    for (const t of this.tabs) t.classList.toggle("mevlab-policy-tab-selected", t.dataset.module === module);
    this.node.dataset.module = module;
    this.view = null;
    this.outcome.clear();
    this.history.reset();
    this.at.clear();
    this.editor.setCurrent(null);
    this.editor.setModels([]);
    this.currentArea.replaceChildren();
    const s = this.conn.session;
    this.say(
      !s
        ? "Log in (mevlab: Control & Live) to see the policies."
        : s.role !== "admin"
          ? "Viewers see the policies, their history and the shadow; changing them needs an admin."
          : "",
    );
    this.applyAccess();
    if (s) void this.reload(true);
  }

  /** Reads the module's policy, history, models and the live model's card, then shows them. */
  private async reload(reset = false): Promise<void> {
    if (!this.conn.session) return;
    if (!this.isVisible && !reset) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const seq = ++this.loadSeq;
    const module = this.module;
    try {
      const client = this.conn.controlPlane();
      const [view, models] = await Promise.all([client.policy(module), client.listModels(module)]);
      const card = await this.cardOf(client, view.current.modelId);
      if (seq !== this.loadSeq) return;
      this.showPolicy(view, models.models, card, reset);
    } catch (err) {
      if (seq === this.loadSeq) this.say(`cannot read the ${module} policy: ${errorText(err)}`, true);
    }
  }

  private async cardOf(client: ControlPlaneClient, id: string): Promise<ModelCard | null> {
    if (!id) return null;
    const known = this.cards.get(id);
    if (known) return known;
    try {
      const card = await client.modelCard(id);
      this.cards.set(id, card);
      return card;
    } catch {
      return null; // a model no longer in the store: its id is still shown, with "card unavailable"
    }
  }

  private showPolicy(view: PolicyView, models: ModelSummary[], card: ModelCard | null, reset: boolean): void {
    this.view = view;
    this.currentArea.replaceChildren(currentView(view.current, card));
    this.editor.setModels(models);
    this.editor.setCurrent(view.current, reset);
    this.applyAccess();
  }

  /** Who may act, and whether a change is in flight, on every part. */
  private applyAccess(): void {
    const admin = this.admin;
    // One change at a time, followed on the module it was made on.
    for (const t of this.tabs) t.disabled = this.busy;
    this.editor.setAccess(admin, this.busy);
    this.history.set(this.view?.history ?? [], this.view?.current.version ?? -1n, admin, this.busy);
    this.shadow.set(this.view?.current.shadow ?? null, admin, this.busy);
  }

  private say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle("mevlab-error", error);
  }

  /** Policy acks: shown per agent while a change of this panel is in flight, else a reload (someone else's change). */
  private onEvents(_: IMevlabConnection, events: Event[]): void {
    let reload = false;
    for (const e of events) {
      if (e.payload.case !== "controlAck") continue;
      const ack = e.payload.value;
      if (ack.action !== Action.policy || ack.module !== Module[this.module]) continue;
      if (this.busy) this.outcome.ack(ack.agentId, ack.outcome, ack.reason, ack.modelId);
      else reload = true;
    }
    if (reload) {
      clearTimeout(this.reloadTimer);
      this.reloadTimer = window.setTimeout(() => void this.reload(), RELOAD_MS);
    }
  }

  private async promote(mode: "live" | "shadow"): Promise<void> {
    const { modelId, policy } = this.editor.changes();
    const picked = this.editor.draft();
    const shadow = mode === "shadow";
    const what = shadow
      ? () => `Score ${this.editor.modelName(picked.modelId)} at ev_min ${picked.fields.ev_min} beside the live model.`
      : () => this.editor.diffTable();
    const label = shadow ? "Deploy in shadow" : "Promote";
    const reason = await askReason(`${label} · ${this.module}`, what, label);
    if (!reason) return;
    await this.change({
      label: shadow ? `shadow ${modelText(picked.modelId)}` : "promote",
      run: (client) =>
        promote(client, {
          module: this.module,
          mode,
          reason,
          ...(shadow
            ? { model: picked.modelId, policy: { ev_min: picked.fields.ev_min } }
            : { ...(modelId ? { model: modelId } : {}), policy }),
        }),
    });
  }

  private async rollback(version: number): Promise<void> {
    const reason = await askReason(
      `Roll back · ${this.module}`,
      () => `Promote version ${version}'s policy and model again, as the next version.`,
      "Roll back",
    );
    if (!reason) return;
    await this.change({
      label: `roll back to v${version}`,
      run: (client) => client.rollbackPolicy(this.module, version, reason, { timeoutMs: 60_000 }),
    });
  }

  private async endShadow(action: "promote" | "drop"): Promise<void> {
    const label = action === "promote" ? "Make shadow live" : "Drop shadow";
    const id = this.view?.current.shadow?.modelId ?? "";
    const reason = await askReason(`${label} · ${this.module}`, () => `Shadow candidate ${modelText(id)}.`, label);
    if (!reason) return;
    await this.change({
      label: label.toLowerCase(),
      run: (client) => endShadow(client, this.module, action, { reason }),
    });
  }

  /** The module's live agents, whom a change waits for; the heartbeats seen here if the list cannot be read. */
  private async agentsOf(client: ControlPlaneClient, module: ModuleName): Promise<string[]> {
    try {
      const { agents } = await client.agents();
      return agents.filter((a) => a.module === module && !a.stale).map((a) => a.agent_id);
    } catch {
      return [...this.conn.agents.values()].filter((a) => a.module === Module[module]).map((a) => a.agentId);
    }
  }

  /** Carries out one change: pending per agent, then each agent's answer, then the panel reloaded. */
  private async change(c: Change): Promise<void> {
    if (this.busy || !this.conn.session) return;
    this.busy = true;
    this.applyAccess();
    try {
      const client = this.conn.controlPlane();
      this.outcome.start(c.label, await this.agentsOf(client, this.module));
      const { request, version } = await c.run(client);
      this.outcome.finish(c.label, request, version);
    } catch (err) {
      const request = err instanceof PromotionError ? err.result.request : undefined;
      this.outcome.fail(c.label, errorText(err), request);
    } finally {
      this.busy = false;
      this.applyAccess();
    }
    await this.reload(true);
  }
}
