import { AckOutcome, Action, AgentState, type ControlArgs, type ControlCommand, type Policy } from "@mevlab/proto";
import { validatePolicy } from "@mevlab/kernel-helpers/client";

/** What an agent is doing; changed only by `applyCommand`. */
export interface AgentRuntime {
  state: AgentState;
  throttlePct: number;
  evMin: number;
  tipLadder: number[];
  policyVersion: bigint;
  /** The live model's sha256 ("" = the built-in estimate). */
  modelId: string;
  /** A candidate scored beside the live model, never acted on (docs/promotion.md, "Shadow"). */
  shadow?: { modelId: string; evMin: number };
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
    modelId: "",
    commandsApplied: 0n,
  };
}

/** Runs a promoted policy: its thresholds, ladder, throttle and kill switch, and its version. */
export function adoptPolicy(rt: AgentRuntime, p: Policy): void {
  rt.evMin = p.evMin;
  rt.tipLadder = [...p.tipLadder];
  rt.throttlePct = p.throttlePct;
  rt.policyVersion = p.version;
  rt.modelId = p.modelId;
  rt.shadow = p.shadow?.modelId ? { modelId: p.shadow.modelId, evMin: p.shadow.evMin } : undefined;
  if (p.kill) rt.state = AgentState.killed;
  else if (rt.state === AgentState.running || rt.state === AgentState.throttled) {
    rt.state = p.throttlePct > 0 ? AgentState.throttled : AgentState.running;
  }
}

/** Why the arguments are unusable, naming the field; undefined when they are fine. */
export function invalidArgs(args: ControlArgs | undefined): string | undefined {
  if (!args) return undefined;
  const p = args.policy;
  const ladder = p ? p.tipLadder : args.tipLadder;
  // An empty ladder is an absent one on the wire (a repeated field); the rules are the control plane's.
  const problems = validatePolicy({
    throttle_pct: p ? p.throttlePct : args.throttlePct,
    ev_min: p ? p.evMin : args.evMin,
    tip_ladder: ladder.length ? ladder : undefined,
  });
  return problems[0]?.message;
}

/** Bounded set of request ids already seen, oldest forgotten first. */
export class DedupeWindow {
  private readonly ids = new Set<string>();
  constructor(
    private readonly capacity = 10_000,
    ids: readonly string[] = [],
  ) {
    for (const id of ids.slice(-capacity)) this.ids.add(id);
  }

  /** Oldest first, as the constructor takes them back. */
  toArray(): string[] {
    return [...this.ids];
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

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
  const invalid = invalidArgs(args);
  if (invalid) return { outcome: AckOutcome.rejected, reason: invalid };
  const next: AgentRuntime = { ...rt };
  const throttle = args?.throttlePct;
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
      if (args?.policy) {
        if (args.policy.version < rt.policyVersion) {
          return {
            outcome: AckOutcome.rejected,
            reason: `policy v${args.policy.version} is older than the running v${rt.policyVersion}`,
          };
        }
        adoptPolicy(next, args.policy);
        break;
      }
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

/** A batch split for applying: its kills (they overtake what is queued behind them), then the rest as sent. */
export function splitKills<T extends { action: Action }>(commands: readonly T[]): [kills: T[], rest: T[]] {
  return [commands.filter((c) => c.action === Action.kill), commands.filter((c) => c.action !== Action.kill)];
}
