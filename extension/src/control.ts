import { Widget } from "@lumino/widgets";
import { AgentState, ControlRequest_State, Module, type AgentStatus } from "@mevlab/proto";
import type { ActionName, ModuleName } from "@mevlab/kernel-helpers/client";
import type { CommandOutcome, IMevlabConnection } from "./tokens";

const ACTIONS: { action: ActionName; label: string; danger?: boolean }[] = [
  { action: "start", label: "Start" },
  { action: "stop", label: "Stop" },
  { action: "restart", label: "Restart" },
  { action: "kill", label: "Kill", danger: true },
];

/** One card per module: state of its agents, the action buttons and the last command's outcome. */
export class ModuleCard extends Widget {
  private readonly stateEl: HTMLElement;
  private readonly ackEl: HTMLElement;
  private readonly buttons: HTMLButtonElement[] = [];
  private busy = false;

  constructor(
    private readonly module: ModuleName,
    private readonly conn: IMevlabConnection,
  ) {
    super();
    this.addClass("mevlab-card");
    this.node.dataset.module = module;
    const title = document.createElement("h3");
    title.textContent = module === "mev" ? "MEV (sandwich)" : "Arbitrage";
    this.stateEl = document.createElement("div");
    this.stateEl.className = "mevlab-state";
    this.stateEl.dataset.module = module;
    const row = document.createElement("div");
    row.className = "mevlab-actions";
    for (const a of ACTIONS) {
      const b = document.createElement("button");
      b.textContent = a.label;
      b.className = `jp-mod-styled ${a.danger ? "jp-mod-warn" : "jp-mod-accept"}`;
      b.dataset.action = a.action;
      b.dataset.module = module;
      b.onclick = () => void this.send(a.action);
      this.buttons.push(b);
      row.append(b);
    }
    this.ackEl = document.createElement("div");
    this.ackEl.className = "mevlab-ack";
    this.ackEl.dataset.module = module;
    this.node.append(title, this.stateEl, row, this.ackEl);
    this.render();
  }

  render(): void {
    const mod = this.module === "mev" ? Module.mev : Module.arbitrage;
    const agents = [...this.conn.agents.values()].filter((a) => a.module === mod);
    this.stateEl.textContent = agents.length ? agents.map(describeAgent).join(" · ") : "no agent seen";
    const canAct = this.conn.session?.role === "admin" && !this.busy;
    for (const b of this.buttons) b.disabled = !canAct;
    const viewer = this.conn.session?.role === "viewer";
    this.node.title = viewer ? "viewers can watch but not change anything" : "";
  }

  private async send(action: ActionName): Promise<void> {
    this.busy = true;
    this.ackEl.textContent = `${action}: pending…`;
    this.ackEl.dataset.outcome = "pending";
    this.render();
    const outcome = await this.conn.command(this.module, action);
    this.busy = false;
    this.showOutcome(outcome);
    this.render();
  }

  private showOutcome(o: CommandOutcome): void {
    if (o.error || !o.request) {
      this.ackEl.textContent = `${o.action}: ${o.error ?? "no answer"}`;
      this.ackEl.dataset.outcome = "error";
      return;
    }
    const what = ControlRequest_State[o.request.state] ?? "unknown";
    const ms = (o.latencyMs ?? 0).toFixed(1);
    const by = o.request.outcomes.map((a) => a.agentId).join(", ") || "no agent";
    const reason = o.request.reason ? ` (${o.request.reason})` : "";
    this.ackEl.textContent = `${o.action}: ${what} in ${ms} ms by ${by}${reason}`;
    this.ackEl.dataset.outcome = what;
  }
}

function describeAgent(a: AgentStatus): string {
  const state = AgentState[a.state] ?? "unknown";
  const throttle = a.throttlePct > 0 ? `, throttle ${a.throttlePct}%` : "";
  return `${a.agentId}: ${state}${throttle}`;
}
