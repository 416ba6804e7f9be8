/**
 * The rules of a policy's fields, one implementation for everyone who checks them: the control plane's
 * schemas take their wording from here and its validation calls ladderOrderProblem, the agents refuse
 * with validatePolicy's first problem, and notebooks call validatePolicy before sending. Browser-safe.
 */

export const MAX_RUNGS = 16;

/** The messages, as templates: {path} the field, {got} the value, {count} a ladder's length. */
export const POLICY_MESSAGES = {
  throttle_pct: "{path} must be an integer 0-100, got {got}",
  ev_min: "{path} must be a finite number >= 0, got {got}",
  rung: "{path} must be a number inside (0, 1), got {got}",
  ladder: "{path} must be an array of numbers",
  rungs: `{path} must have 1-${MAX_RUNGS} rungs, got {count}`,
} as const;

/** A policy's fields as the API names them; any may be absent. */
export interface PolicyFields {
  throttle_pct?: number;
  ev_min?: number;
  tip_ladder?: readonly number[];
}

export interface PolicyProblem {
  field: string;
  message: string;
}

function got(v: unknown): string {
  return typeof v === "number" && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
}

function say(template: string, path: string, value: unknown): PolicyProblem {
  const count = Array.isArray(value) ? String(value.length) : "";
  return {
    field: path,
    message: template.replace("{path}", path).replace("{got}", got(value)).replace("{count}", count),
  };
}

/** The order rule: rungs strictly increasing from above 0, the first rung that breaks it. */
export function ladderOrderProblem(ladder: readonly number[] | undefined): PolicyProblem | undefined {
  let prev = 0;
  for (const [i, q] of (ladder ?? []).entries()) {
    if (!(q > prev)) {
      return {
        field: `tip_ladder[${i}]`,
        message: `tip_ladder must be strictly increasing: tip_ladder[${i}] = ${q} follows ${prev}`,
      };
    }
    prev = q;
  }
  return undefined;
}

function ladderProblems(ladder: unknown): PolicyProblem[] {
  if (!Array.isArray(ladder)) return [say(POLICY_MESSAGES.ladder, "tip_ladder", ladder)];
  if (ladder.length < 1 || ladder.length > MAX_RUNGS) return [say(POLICY_MESSAGES.rungs, "tip_ladder", ladder)];
  const bad = ladder.findIndex((q) => typeof q !== "number" || !(q > 0 && q < 1));
  if (bad >= 0) return [say(POLICY_MESSAGES.rung, `tip_ladder[${bad}]`, ladder[bad])];
  const order = ladderOrderProblem(ladder as number[]);
  return order ? [order] : [];
}

/** Every problem of a policy's fields, in field order; empty when the control plane would accept them. */
export function validatePolicy(p: PolicyFields): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const t = p.throttle_pct;
  if (t !== undefined && !(Number.isInteger(t) && t >= 0 && t <= 100)) {
    out.push(say(POLICY_MESSAGES.throttle_pct, "throttle_pct", t));
  }
  const e = p.ev_min;
  if (e !== undefined && !(typeof e === "number" && Number.isFinite(e) && e >= 0)) {
    out.push(say(POLICY_MESSAGES.ev_min, "ev_min", e));
  }
  if (p.tip_ladder !== undefined) out.push(...ladderProblems(p.tip_ladder));
  return out;
}
