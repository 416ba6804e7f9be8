import { Action, ControlArgsSchema, Module, create, type ControlArgs } from "@mevlab/proto";
import { badRequest, HttpError } from "../http/errors";
import type { PolicyChanges } from "../policy/store";

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
const MAX_TEXT = 500;
const CONTROL_FIELDS = ["throttle_pct", "ev_min", "tip_ladder", "kill"];
const U64_MAX = 18_446_744_073_709_551_615n;

type Body = Record<string, unknown>;

/** `{name}:{action}` of the control route; 404 naming the unknown part. */
export function parseTarget(spec: string): { module: Module; moduleName: string; action: Action; actionName: string } {
  const i = spec.lastIndexOf(":");
  if (i < 0) throw new HttpError(404, "not_found", `expected /api/control/module/{name}:{action}, got '${spec}'`);
  const moduleName = spec.slice(0, i);
  const actionName = spec.slice(i + 1);
  const module = parseModule(moduleName, 404);
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

export function parseModule(name: unknown, status = 400): Module {
  const module = typeof name === "string" ? MODULES[name] : undefined;
  if (module === undefined) {
    throw new HttpError(
      status,
      status === 404 ? "unknown_module" : "bad_request",
      `unknown module ${typeof name === "string" ? `'${name}'` : JSON.stringify(name)}: expected one of ${Object.keys(MODULES).join(", ")}`,
    );
  }
  return module;
}

/** A JSON object whose keys are all in `allowed`; each error names the field. */
function object(raw: unknown, allowed: readonly string[]): Body {
  const body = raw ?? {};
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("body must be a JSON object");
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`unknown field '${key}': allowed are ${allowed.join(", ")}`);
  }
  return body as Body;
}

/** The blueprint's fields, each validated; absent ones stay undefined. */
function policyFields(b: Body): PolicyChanges {
  const out: PolicyChanges = {};
  if (b.throttle_pct !== undefined) {
    const v = b.throttle_pct;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 100) {
      throw badRequest(`throttle_pct must be an integer 0-100, got ${JSON.stringify(v)}`);
    }
    out.throttlePct = v;
  }
  if (b.ev_min !== undefined) {
    const v = b.ev_min;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw badRequest(`ev_min must be a finite number >= 0, got ${JSON.stringify(v)}`);
    }
    out.evMin = v;
  }
  if (b.tip_ladder !== undefined) out.tipLadder = parseLadder(b.tip_ladder);
  if (b.kill !== undefined) {
    if (typeof b.kill !== "boolean") throw badRequest(`kill must be true or false, got ${JSON.stringify(b.kill)}`);
    out.kill = b.kill;
  }
  return out;
}

/** The blueprint body `{throttle_pct, ev_min, tip_ladder, kill}` of a control action. */
export function parseControlBody(body: unknown, action: Action): ControlArgs {
  const fields = policyFields(object(body, CONTROL_FIELDS));
  if (action === Action.throttle && fields.throttlePct === undefined) {
    throw badRequest("throttle needs throttle_pct (an integer 0-100)");
  }
  return create(ControlArgsSchema, {
    throttlePct: fields.throttlePct,
    evMin: fields.evMin,
    tipLadder: fields.tipLadder ?? [],
    kill: fields.kill,
  });
}

/** The fields of the control body as changes to the current policy (the `policy` action). */
export function policyChangesOf(args: ControlArgs): PolicyChanges {
  return {
    throttlePct: args.throttlePct,
    evMin: args.evMin,
    tipLadder: args.tipLadder.length ? args.tipLadder : undefined,
    kill: args.kill,
  };
}

/** POST /api/policy/update: `{module, throttle_pct?, ev_min?, tip_ladder?, kill?, model_id?, reason?}`. */
export function parsePolicyUpdate(body: unknown): { module: Module; changes: PolicyChanges; reason: string } {
  const b = object(body, ["module", ...CONTROL_FIELDS, "model_id", "reason"]);
  const module = parseModule(b.module);
  const changes = policyFields(b);
  if (b.model_id !== undefined) changes.modelId = text(b.model_id, "model_id");
  if (Object.values(changes).every((v) => v === undefined)) {
    throw badRequest("nothing to change: give at least one of throttle_pct, ev_min, tip_ladder, kill, model_id");
  }
  return { module, changes, reason: b.reason === undefined ? "" : text(b.reason, "reason") };
}

/** POST /api/policy/{module}/rollback: `{version, reason?}`. */
export function parseRollback(body: unknown): { version: bigint; reason: string } {
  const b = object(body, ["version", "reason"]);
  const v = b.version;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw badRequest(`version must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return { version: BigInt(v), reason: b.reason === undefined ? "" : text(b.reason, "reason") };
}

/** POST /api/agents/bundle/retry: `{bundle_id, tip_lamports}` (lamports as an integer or a decimal string). */
export function parseBundleRetry(body: unknown): ControlArgs {
  const b = object(body, ["bundle_id", "tip_lamports"]);
  const bundleId = text(b.bundle_id, "bundle_id");
  if (!bundleId) throw badRequest("bundle_id must be a non-empty string");
  const t = b.tip_lamports;
  let tip: bigint;
  if (typeof t === "number" && Number.isSafeInteger(t) && t > 0) tip = BigInt(t);
  else if (typeof t === "string" && /^[0-9]{1,20}$/.test(t) && BigInt(t) > 0n && BigInt(t) <= U64_MAX) tip = BigInt(t);
  else throw badRequest(`tip_lamports must be a positive integer of lamports, got ${JSON.stringify(t)}`);
  return create(ControlArgsSchema, { bundleId, tipLamports: tip });
}

function text(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length > MAX_TEXT)
    throw badRequest(`${field} must be a string of at most ${MAX_TEXT} characters`);
  return v;
}

function parseLadder(v: unknown): number[] {
  if (!Array.isArray(v)) throw badRequest("tip_ladder must be an array of numbers");
  if (v.length === 0 || v.length > MAX_RUNGS) {
    throw badRequest(`tip_ladder must have 1-${MAX_RUNGS} rungs, got ${v.length}`);
  }
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
