import { AgentState, type AgentStatus } from "@mevlab/proto";

/** Heartbeats come every second; three missed ones and the agent is shown stale. */
export const STALE_AFTER_MS = 3_000;

/** One agent of a module card: state, throttle, policy version, model, last seen, stale. */
export function agentRow(a: AgentStatus, now = Date.now()): HTMLLIElement {
  const li = document.createElement("li");
  li.dataset.agent = a.agentId;
  const age = now - Number(a.ts);
  const stale = age > STALE_AFTER_MS;
  li.dataset.stale = String(stale);
  li.dataset.state = AgentState[a.state] ?? "unknown";
  const cell = (cls: string, text: string) => {
    const s = document.createElement("span");
    s.className = `mevlab-agent-${cls}`;
    s.textContent = text;
    return s;
  };
  li.append(
    cell("id", a.agentId),
    cell("state", AgentState[a.state] ?? "unknown"),
    cell("throttle", `${a.throttlePct}%`),
    cell("policy", `policy v${a.policyVersion}`),
    cell("model", a.modelId ? `model ${a.modelId.slice(0, 12)}` : "built-in estimate"),
    cell("seen", age < 1_000 ? "just now" : `${(age / 1000).toFixed(0)} s ago`),
  );
  if (stale) li.append(cell("stale", "stale"));
  return li;
}
