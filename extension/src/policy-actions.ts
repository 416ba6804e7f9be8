import { Dialog, showDialog } from "@jupyterlab/apputils";
import { Widget } from "@lumino/widgets";
import { AckOutcome, ControlRequest_State, type ControlRequest } from "@mevlab/proto";
import { el } from "./dom";
import { modelText } from "./policy-view";

class ReasonBody extends Widget implements Dialog.IBodyWidget<string> {
  private readonly input = el("input", {
    type: "text",
    name: "reason",
    className: "jp-mod-styled",
    placeholder: "why: kept in the lineage",
    autocomplete: "off",
  });

  constructor(what: Node | string, note: string) {
    super();
    this.addClass("mevlab-policy-reason");
    this.node.append(
      el("div", { className: "mevlab-policy-reason-what" }, what),
      el("label", { className: "mevlab-field" }, el("span", {}, "Reason (required)"), this.input),
      el("div", { className: "mevlab-policy-problem", role: "alert" }, note),
    );
  }

  getValue(): string {
    return this.input.value.trim();
  }
}

/**
 * Asks why before a policy change: the reason is kept in the lineage, so an empty one is asked again.
 * Undefined when cancelled.
 */
export async function askReason(title: string, what: () => Node | string, label: string): Promise<string | undefined> {
  let note = "";
  for (;;) {
    const result = await showDialog({
      title,
      body: new ReasonBody(what(), note),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label })],
      focusNodeSelector: "input[name=reason]",
    });
    if (!result.button.accept) return undefined;
    if (result.value) return result.value;
    note = "A reason is required: it is kept in the lineage.";
  }
}

interface AgentLine {
  outcome: string;
  detail: string;
}

/**
 * The last policy change and where it stands on each agent: pending until its ack arrives on the live
 * stream, then applied (with the model it runs) or the refusal's reason; the final request record last.
 */
export class OutcomeView {
  readonly node = el("div", { className: "mevlab-policy-outcome", role: "status" });
  private readonly summary = el("div", { className: "mevlab-policy-outcome-summary" });
  private readonly list = el("ul", { className: "mevlab-policy-outcome-agents" });
  private readonly agents = new Map<string, AgentLine>();

  constructor() {
    this.node.hidden = true;
    this.node.append(this.summary, this.list);
  }

  start(label: string, agents: string[]): void {
    this.agents.clear();
    for (const a of agents) this.agents.set(a, { outcome: "pending", detail: "" });
    this.show("pending", `${label}: pending…`);
  }

  /** An ack from the live stream while the change is in flight. */
  ack(agentId: string, outcome: AckOutcome, reason: string, modelId: string): void {
    if (this.node.dataset.state !== "pending") return;
    this.agents.set(agentId, line(outcome, reason, modelId));
    this.renderAgents();
  }

  finish(label: string, request: ControlRequest, version: number): void {
    for (const o of request.outcomes) this.agents.set(o.agentId, line(o.outcome, o.reason, o.modelId));
    for (const id of request.expectedAgents) {
      if (!this.agents.has(id) || this.agents.get(id)?.outcome === "pending") {
        this.agents.set(id, { outcome: "no answer", detail: "" });
      }
    }
    const state = ControlRequest_State[request.state] ?? "unknown";
    const why = request.reason ? `: ${request.reason}` : "";
    this.show(state, `${label}: v${version} ${state}${why}`);
  }

  fail(label: string, message: string, request?: ControlRequest): void {
    if (request) for (const o of request.outcomes) this.agents.set(o.agentId, line(o.outcome, o.reason, o.modelId));
    for (const [id, a] of this.agents)
      if (a.outcome === "pending") this.agents.set(id, { outcome: "not sent", detail: "" });
    this.show(request ? (ControlRequest_State[request.state] ?? "error") : "error", `${label}: ${message}`);
  }

  clear(): void {
    this.agents.clear();
    this.node.hidden = true;
    delete this.node.dataset.state;
  }

  private show(state: string, text: string): void {
    this.node.hidden = false;
    this.node.dataset.state = state;
    this.summary.textContent = text;
    this.renderAgents();
  }

  private renderAgents(): void {
    this.list.replaceChildren(
      ...[...this.agents]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, a]) =>
          el(
            "li",
            { dataset: { agent: id, outcome: a.outcome } },
            `${id}: ${a.outcome}${a.detail ? ` ${a.detail}` : ""}`,
          ),
        ),
    );
  }
}

function line(outcome: AckOutcome, reason: string, modelId: string): AgentLine {
  const name = AckOutcome[outcome] ?? "unknown";
  const detail = reason ? `(${reason})` : outcome === AckOutcome.applied ? `(runs ${modelText(modelId)})` : "";
  return { outcome: name, detail };
}
