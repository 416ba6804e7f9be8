import { AgentState, Module, type AgentStatus } from "@mevlab/proto";

/** Heartbeats are sent every second; an agent not heard for this long is shown as stale. */
const STALE_AFTER_MS = 3_000;

export interface AgentView {
  agent_id: string;
  module: string;
  state: string;
  throttle_pct: number;
  policy_version: string;
  model_id: string;
  last_seen: number;
  stale: boolean;
}

/** The latest heartbeat of every agent seen on `agent-status`. */
export class AgentRegistry {
  private readonly agents = new Map<string, { status: AgentStatus; seenAt: number }>();

  update(status: AgentStatus): void {
    this.agents.set(status.agentId, { status, seenAt: Date.now() });
  }

  /** Ids of the agents of these modules that are heard from (not stale). */
  live(modules: readonly Module[], now = Date.now()): string[] {
    return [...this.agents.values()]
      .filter(({ status, seenAt }) => modules.includes(status.module) && now - seenAt <= STALE_AFTER_MS)
      .map(({ status }) => status.agentId)
      .sort();
  }

  list(now = Date.now()): AgentView[] {
    return [...this.agents.values()]
      .map(({ status, seenAt }) => ({
        agent_id: status.agentId,
        module: Module[status.module] ?? "unknown",
        state: AgentState[status.state] ?? "unknown",
        throttle_pct: status.throttlePct,
        policy_version: status.policyVersion.toString(),
        model_id: status.modelId,
        last_seen: seenAt,
        stale: now - seenAt > STALE_AFTER_MS,
      }))
      .sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  }
}
