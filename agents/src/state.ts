import { AckOutcome, Action, AgentState, type ControlCommand } from "@mevlab/proto";

/** What an agent is doing; changed only by `applyCommand`. */
export interface AgentRuntime {
  state: AgentState;
  throttlePct: number;
  evMin: number;
  tipLadder: number[];
  policyVersion: bigint;
  commandsApplied: bigint;
}

export interface Decision {
  outcome: AckOutcome;
  reason: string;
}

export function initialRuntime(startStopped: boolean): AgentRuntime {
  return {
    state: startStopped ? AgentState.stopped : AgentState.running,
    throttlePct: 0,
    evMin: 0.0005,
    tipLadder: [0.5, 0.7, 0.85, 0.95],
    policyVersion: 0n,
    commandsApplied: 0n,
  };
}

/** Bounded set of request ids already seen, oldest forgotten first. */
export class DedupeWindow {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }
}

/**
 * Applies one command to the runtime, at most once per request id, and says what happened. The
 * whole change is computed first and assigned at the end, so a rejected command changes nothing.
 */
export function applyCommand(
  rt: AgentRuntime,
  cmd: ControlCommand,
  seen: DedupeWindow,
  now: number,
  module: "arbitrage" | "mev",
): Decision {
  if (!cmd.requestId) return { outcome: AckOutcome.rejected, reason: "request_id is empty" };
  if (!seen.add(cmd.requestId)) return { outcome: AckOutcome.duplicate, reason: "already applied" };
  if (cmd.notAfter !== 0n && BigInt(now) > cmd.notAfter) {
    return { outcome: AckOutcome.expired, reason: `not_after passed ${BigInt(now) - cmd.notAfter} ms ago` };
  }
  const args = cmd.args;
  const next: AgentRuntime = { ...rt };
  const throttle = args?.throttlePct;
  if (throttle !== undefined && (throttle < 0 || throttle > 100)) {
    return { outcome: AckOutcome.rejected, reason: `throttle_pct must be 0-100, got ${throttle}` };
  }
  const running = (pct: number) => (pct > 0 ? AgentState.throttled : AgentState.running);
  switch (cmd.action) {
    case Action.start:
    case Action.restart:
      next.state = running(next.throttlePct);
      break;
    case Action.stop:
      next.state = AgentState.stopped;
      break;
    case Action.kill:
      next.state = AgentState.killed;
      break;
    case Action.throttle:
      if (throttle === undefined) return { outcome: AckOutcome.rejected, reason: "throttle needs throttle_pct" };
      next.throttlePct = throttle;
      if (next.state === AgentState.running || next.state === AgentState.throttled) next.state = running(throttle);
      break;
    case Action.policy:
      if (throttle !== undefined) next.throttlePct = throttle;
      if (args?.evMin !== undefined) next.evMin = args.evMin;
      if (args && args.tipLadder.length > 0) next.tipLadder = [...args.tipLadder];
      if (args?.kill) next.state = AgentState.killed;
      else if (next.state === AgentState.running || next.state === AgentState.throttled)
        next.state = running(next.throttlePct);
      next.policyVersion += 1n;
      break;
    case Action.retry_bundle:
      if (module !== "mev") return { outcome: AckOutcome.rejected, reason: "retry_bundle is for the mev module" };
      if (!args?.bundleId) return { outcome: AckOutcome.rejected, reason: "retry_bundle needs bundle_id" };
      break;
    default:
      return { outcome: AckOutcome.rejected, reason: `unknown action ${cmd.action}` };
  }
  if (args?.kill === true && cmd.action !== Action.policy) next.state = AgentState.killed;
  next.commandsApplied += 1n;
  Object.assign(rt, next);
  return { outcome: AckOutcome.applied, reason: "" };
}
