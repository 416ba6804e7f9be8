import { Action, Module, create, type ControlArgs, ControlArgsSchema } from "@mevlab/proto";
import { badRequest, HttpError } from "../http/errors";

export const MODULES: Record<string, Module> = { arbitrage: Module.arbitrage, mev: Module.mev };

const ACTIONS: Record<string, Action> = {
  start: Action.start,
  stop: Action.stop,
  restart: Action.restart,
  throttle: Action.throttle,
  policy: Action.policy,
  kill: Action.kill,
};

const MAX_RUNGS = 16;
const BODY_FIELDS = new Set(["throttle_pct", "ev_min", "tip_ladder", "kill"]);

/** `{name}:{action}` of the control route; 404 naming the unknown part. */
export function parseTarget(spec: string): { module: Module; moduleName: string; action: Action; actionName: string } {
  const i = spec.lastIndexOf(":");
  if (i < 0) throw new HttpError(404, "not_found", `expected /api/control/module/{name}:{action}, got '${spec}'`);
  const moduleName = spec.slice(0, i);
  const actionName = spec.slice(i + 1);
  const module = MODULES[moduleName];
  if (module === undefined) {
    throw new HttpError(
      404,
      "unknown_module",
      `unknown module '${moduleName}': expected one of ${Object.keys(MODULES).join(", ")}`,
    );
  }
  const action = ACTIONS[actionName];
  if (action === undefined) {
    throw new HttpError(
      404,
      "unknown_action",
      `unknown action '${actionName}': expected one of ${Object.keys(ACTIONS).join(", ")}`,
    );
  }
  return { module, moduleName, action, actionName };
}

/** The blueprint body `{throttle_pct, ev_min, tip_ladder, kill}`; each error names its field. */
export function parseControlBody(body: unknown, action: Action): ControlArgs {
  if (body === undefined || body === null) body = {};
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("body must be a JSON object");
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!BODY_FIELDS.has(key)) throw badRequest(`unknown field '${key}': allowed are ${[...BODY_FIELDS].join(", ")}`);
  }
  const args = create(ControlArgsSchema);
  if (b.throttle_pct !== undefined) {
    const v = b.throttle_pct;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 100) {
      throw badRequest(`throttle_pct must be an integer 0-100, got ${JSON.stringify(v)}`);
    }
    args.throttlePct = v;
  }
  if (b.ev_min !== undefined) {
    const v = b.ev_min;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw badRequest(`ev_min must be a finite number >= 0, got ${JSON.stringify(v)}`);
    }
    args.evMin = v;
  }
  if (b.tip_ladder !== undefined) args.tipLadder = parseLadder(b.tip_ladder);
  if (b.kill !== undefined) {
    if (typeof b.kill !== "boolean") throw badRequest(`kill must be true or false, got ${JSON.stringify(b.kill)}`);
    args.kill = b.kill;
  }
  if (action === Action.throttle && args.throttlePct === undefined) {
    throw badRequest("throttle needs throttle_pct (an integer 0-100)");
  }
  return args;
}

function parseLadder(v: unknown): number[] {
  if (!Array.isArray(v)) throw badRequest("tip_ladder must be an array of numbers");
  if (v.length === 0 || v.length > MAX_RUNGS)
    throw badRequest(`tip_ladder must have 1-${MAX_RUNGS} rungs, got ${v.length}`);
  let prev = 0;
  for (const [i, q] of v.entries()) {
    if (typeof q !== "number" || !Number.isFinite(q) || q <= 0 || q >= 1) {
      throw badRequest(`tip_ladder[${i}] must be a number inside (0, 1), got ${JSON.stringify(q)}`);
    }
    if (q <= prev) throw badRequest(`tip_ladder must be strictly increasing: tip_ladder[${i}] = ${q} follows ${prev}`);
    prev = q;
  }
  return v as number[];
}
