import type { FastifySchemaValidationError } from "fastify";
import { Action, ControlArgsSchema, Module, create, type ControlArgs } from "@mevlab/proto";
import { ladderOrderProblem } from "@mevlab/kernel-helpers";
import { badRequest } from "../http/errors";
import { SchemaError } from "../http/validation";
import type { PolicyChanges } from "../policy/store";
import { ACTION_NAMES, MODULE_NAMES, type ControlBody, type PolicyUpdateBody } from "./schemas";

// What the schemas cannot say: the target's parts, a ladder's order, a rule across fields, u64 lamports.

const U64_MAX = 18_446_744_073_709_551_615n;

/** `{module}:{action}` of a path its schema has accepted. */
export function parseTarget(spec: string): { module: Module; moduleName: string; action: Action } {
  const [moduleName, actionName] = spec.split(":");
  return {
    module: Module[moduleName as keyof typeof Module],
    moduleName,
    action: Action[actionName as keyof typeof Action],
  };
}

/** Why a `{name}:{action}` path names no target (a 404): the part that is wrong. */
export function targetError(errors: FastifySchemaValidationError[]): SchemaError {
  const spec = String((errors[0] as { data?: unknown }).data);
  const i = spec.lastIndexOf(":");
  if (i < 0) return new SchemaError("not_found", `expected /api/control/module/{name}:{action}, got '${spec}'`);
  const moduleName = spec.slice(0, i);
  const actionName = spec.slice(i + 1);
  if (!(MODULE_NAMES as readonly string[]).includes(moduleName)) {
    return new SchemaError(
      "unknown_module",
      `unknown module '${moduleName}': expected one of ${MODULE_NAMES.join(", ")}`,
    );
  }
  return new SchemaError(
    "unknown_action",
    `unknown action '${actionName}': expected one of ${ACTION_NAMES.join(", ")}`,
  );
}

function checkLadder(ladder: number[] | undefined): void {
  const problem = ladderOrderProblem(ladder);
  if (problem) throw badRequest(problem.message);
}

/** The arguments of a control action from its (schema-valid) body. */
export function controlArgs(body: ControlBody, action: Action): ControlArgs {
  checkLadder(body.tip_ladder);
  if (action === Action.throttle && body.throttle_pct === undefined) {
    throw badRequest("throttle needs throttle_pct (an integer 0-100)");
  }
  return create(ControlArgsSchema, {
    throttlePct: body.throttle_pct,
    evMin: body.ev_min,
    tipLadder: body.tip_ladder ?? [],
    kill: body.kill,
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

/** POST /api/policy/update: the changes, at least one. */
export function policyUpdate(body: PolicyUpdateBody): { module: Module; changes: PolicyChanges; reason: string } {
  checkLadder(body.tip_ladder);
  const changes: PolicyChanges = {
    throttlePct: body.throttle_pct,
    evMin: body.ev_min,
    tipLadder: body.tip_ladder,
    kill: body.kill,
    modelId: body.model_id,
  };
  if (Object.values(changes).every((v) => v === undefined)) {
    throw badRequest("nothing to change: give at least one of throttle_pct, ev_min, tip_ladder, kill, model_id");
  }
  return { module: Module[body.module], changes, reason: body.reason ?? "" };
}

/** POST /api/agents/bundle/retry: lamports as an integer or a decimal string, at most 2^64-1. */
export function bundleRetryArgs(body: { bundle_id: string; tip_lamports: number | string }): ControlArgs {
  const tip = BigInt(body.tip_lamports);
  if (tip <= 0n || tip > U64_MAX) {
    throw badRequest(`tip_lamports must be a positive integer of lamports, got ${JSON.stringify(body.tip_lamports)}`);
  }
  return create(ControlArgsSchema, { bundleId: body.bundle_id, tipLamports: tip });
}
