import { AgentState, Module, type AgentStatus, type ControlAck } from "@mevlab/proto";
import type { AgentView } from "@mevlab/kernel-helpers";

/** Heartbeats are sent every second; an agent not heard for this long is shown as stale. */
const STALE_AFTER_MS = 3_000;

/** The latest heartbeat of every agent seen on `agent-status`. */
export class AgentRegistry {
  private readonly agents = new Map<string, { status: AgentStatus; seenAt: number }>();

  update(status: AgentStatus): void {
    this.agents.set(status.agentId, { status, seenAt: Date.now() });
  }

  /** An ack carries the agent's state after the command: shown at once, before the next heartbeat. */
  applyAck(ack: ControlAck): void {
    const known = this.agents.get(ack.agentId);
    if (!known) return;
    known.status = {
      ...known.status,
      state: ack.state,
      throttlePct: ack.throttlePct,
      policyVersion: ack.policyVersion,
      modelId: ack.modelId,
    };
    known.seenAt = Date.now();
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
        commands_applied: status.commandsApplied.toString(),
        boot_id: status.bootId,
        started_at: Number(status.startedAt),
      }))
      .sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  }
}
