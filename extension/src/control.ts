import { Dialog, showDialog } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { AgentState, ControlRequest_State, Module, type AgentStatus } from "@mevlab/proto";
import type { ActionName, ControlArgsJson, ModuleName } from "@mevlab/kernel-helpers/client";
import { agentRow } from "./control-agents";
import type { CommandOutcome, IMevlabConnection } from "./tokens";

const ACTIONS: { action: ActionName; label: string; danger?: boolean }[] = [
  { action: "start", label: "Start" },
  { action: "stop", label: "Stop" },
  { action: "restart", label: "Restart" },
  { action: "kill", label: "Kill", danger: true },
];

/** What an action will do to which agents, for its confirmation; undefined: no confirmation needed. */
const CONFIRM: Partial<Record<ActionName, (who: string) => string>> = {
  kill: (who) => `${who} will stop trading at once and stay killed until someone starts them again.`,
  restart: (who) => `${who} will stop and start again; opportunities in between are not handled.`,
};

export const moduleLabel = (m: ModuleName) => (m === "mev" ? "MEV (sandwich)" : "Arbitrage");

/** The agents a command to these modules reaches, by name, as the last heartbeats tell. */
export function agentNames(conn: IMevlabConnection, modules: readonly ModuleName[]): string {
  const ids = [...conn.agents.values()]
    .filter((a) => modules.includes(Module[a.module] as ModuleName))
    .map((a) => a.agentId)
    .sort();
  return ids.length ? ids.join(", ") : `the ${modules.join(" and ")} agents (none seen yet)`;
}

/** Asks before something stops agents; true when the user confirms. */
export async function confirmStop(title: string, body: string, label: string): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label })],
  });
  return result.button.accept;
}

/** One card per module: its agents, the actions with their confirmations, throttle, and the last outcome. */
export class ModuleCard extends Widget {
  private readonly agentsEl: HTMLElement;
  private readonly stateEl: HTMLElement;
  private readonly ackEl: HTMLElement;
  private readonly buttons: HTMLButtonElement[] = [];
  private readonly throttleRange: HTMLInputElement;
  private readonly throttleNumber: HTMLInputElement;
  private readonly mutating: HTMLElement[] = [];
  private busy = false;

  constructor(
    private readonly module: ModuleName,
    private readonly conn: IMevlabConnection,
  ) {
    super();
    this.addClass("mevlab-card");
    this.node.dataset.module = module;
    const title = document.createElement("h3");
    title.textContent = moduleLabel(module);
    this.stateEl = document.createElement("div");
    this.stateEl.className = "mevlab-state";
    this.stateEl.dataset.module = module;
    this.agentsEl = document.createElement("ul");
    this.agentsEl.className = "mevlab-agents";
    const row = document.createElement("div");
    row.className = "mevlab-actions";
    for (const a of ACTIONS) {
      const b = document.createElement("button");
      b.textContent = a.label;
      b.className = `jp-mod-styled ${a.danger ? "jp-mod-warn" : "jp-mod-accept"}`;
      b.dataset.action = a.action;
      b.dataset.module = module;
      b.onclick = () => void this.act(a.action);
      this.buttons.push(b);
      this.mutating.push(b);
      row.append(b);
    }
    [this.throttleRange, this.throttleNumber] = this.throttleControls(row);
    this.ackEl = document.createElement("div");
    this.ackEl.className = "mevlab-ack";
    this.ackEl.dataset.module = module;
    this.node.append(title, this.stateEl, this.agentsEl, row, this.ackEl);
    this.render();
  }

  render(): void {
    const mod = this.module === "mev" ? Module.mev : Module.arbitrage;
    const agents = [...this.conn.agents.values()].filter((a) => a.module === mod);
    this.stateEl.textContent = agents.length ? agents.map(describeAgent).join(" · ") : "no agent seen";
    this.agentsEl.replaceChildren(...agents.sort((a, b) => a.agentId.localeCompare(b.agentId)).map(agentRow));
    const admin = this.conn.session?.role === "admin";
    for (const el of this.mutating) el.style.display = admin ? "" : "none"; // jp-mod-styled sets display: hidden loses
    for (const b of this.buttons) b.disabled = !admin || this.busy;
    this.throttleNumber.disabled = this.throttleRange.disabled = !admin || this.busy;
    const viewer = this.conn.session?.role === "viewer";
    this.node.title = viewer ? "viewers can watch but not change anything" : "";
  }

  /** Slider and number (0–100), kept equal, and the button that throttles the module to that value. */
  private throttleControls(row: HTMLElement): [HTMLInputElement, HTMLInputElement] {
    const box = document.createElement("span");
    box.className = "mevlab-throttle";
    const range = Object.assign(document.createElement("input"), { type: "range", min: "0", max: "100", value: "0" });
    const number = Object.assign(document.createElement("input"), { type: "number", min: "0", max: "100", value: "0" });
    range.setAttribute("aria-label", `${this.module} throttle %`);
    number.setAttribute("aria-label", `${this.module} throttle % (number)`);
    number.className = "jp-mod-styled mevlab-throttle-number";
    number.dataset.module = range.dataset.module = this.module;
    range.oninput = () => (number.value = range.value);
    number.oninput = () => (range.value = String(clampPct(number.value)));
    const b = document.createElement("button");
    b.textContent = "Throttle";
    b.className = "jp-mod-styled jp-mod-accept";
    b.dataset.action = "throttle";
    b.dataset.module = this.module;
    b.onclick = () => void this.act("throttle", { throttle_pct: clampPct(number.value) });
    this.buttons.push(b);
    box.append(range, number, "%", b);
    this.mutating.push(box);
    row.append(box);
    return [range, number];
  }

  private async act(action: ActionName, args: ControlArgsJson = {}): Promise<void> {
    const words = CONFIRM[action];
    const label = `${action[0].toUpperCase()}${action.slice(1)} ${moduleLabel(this.module)}`;
    if (words && !(await confirmStop(`${label}?`, words(agentNames(this.conn, [this.module])), label))) return;
    this.busy = true;
    this.ackEl.textContent = `${action}: pending…`;
    this.ackEl.dataset.outcome = "pending";
    this.render();
    const outcome = await this.conn.command(this.module, action, args);
    this.busy = false;
    this.ackEl.textContent = outcomeText(outcome);
    this.ackEl.dataset.outcome =
      outcome.error || !outcome.request ? "error" : ControlRequest_State[outcome.request.state];
    this.render();
  }
}

const clampPct = (v: string) => Math.max(0, Math.min(100, Math.round(Number(v) || 0)));

/** `throttle: applied in 12.3 ms by mev-1 (30%)`, or the error, or each agent's refusal. */
export function outcomeText(o: CommandOutcome): string {
  if (o.error || !o.request) return `${o.action}: ${o.error ?? "no answer"}`;
  const what = ControlRequest_State[o.request.state] ?? "unknown";
  const ms = (o.latencyMs ?? 0).toFixed(1);
  const by = o.request.outcomes.map((a) => a.agentId).join(", ") || "no agent";
  const reason = o.request.reason ? ` (${o.request.reason})` : "";
  return `${o.action}: ${what} in ${ms} ms by ${by}${reason}`;
}

function describeAgent(a: AgentStatus): string {
  const state = AgentState[a.state] ?? "unknown";
  const throttle = a.throttlePct > 0 ? `, throttle ${a.throttlePct}%` : "";
  return `${a.agentId}: ${state}${throttle}`;
}
