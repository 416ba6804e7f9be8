/**
 * The second half of the research loop from a notebook: promote a model and its policy to a module's
 * agents (live, or in shadow beside the live model), end a shadow, and ask the lineage what was in
 * force when. docs/promotion.md has the semantics.
 */
import { ControlRequest_State } from "@mevlab/proto";
import { DataError, MevlabError } from "../errors";
import type { CommandResult, ControlPlaneClient } from "./control-plane";
import type { ModelUpload } from "./models";
import { validatePolicy, type PolicyFields } from "./policy-rules";
import type { ModuleName } from "./wire";
import type { LineageView, ShadowView } from "./wire-promotion";

export interface PromoteOptions {
  module: ModuleName;
  /** A model in the store (its sha256 id), or a file (train()'s ModelHandle), uploaded first. */
  model?: string | (ModelUpload & { id?: string });
  /** ev_min, tip_ladder, throttle_pct, kill; absent fields are carried over. Shadow: ev_min only. */
  policy?: PolicyFields & { kill?: boolean };
  /** Why: kept in the lineage. */
  reason: string;
  /** `live` (default) or `shadow`: scored beside the live model, never acted on. */
  mode?: "live" | "shadow";
  /** The notebook it comes from (default: the kernel's JPY_SESSION_NAME, which JupyterLab sets). */
  notebook?: string;
  /** How long to wait for every agent's ack (default 60 s). */
  timeoutMs?: number;
}

export interface Promotion extends CommandResult {
  /** The module's new policy version. */
  version: number;
  /** The model the agents run (live) or score beside it (shadow); "" when none was named. */
  modelId: string;
}

/** Not every agent took the promotion: `result` says which answered what (rejected with a reason, or none). */
export class PromotionError extends MevlabError {
  override readonly name = "PromotionError";
  constructor(
    message: string,
    readonly result: Promotion,
  ) {
    super(message);
  }
}

/**
 * Checks the policy with the rules the control plane and the agents share, uploads a model file if one
 * is given, promotes, and resolves once every agent of the module acked (with the model loaded);
 * PromotionError when one refused or did not answer in time.
 */
export async function promote(client: ControlPlaneClient, opts: PromoteOptions): Promise<Promotion> {
  if (!opts.reason?.trim())
    throw new DataError("promote: reason must say why (it is kept in the lineage)", { field: "reason" });
  const problems = validatePolicy(opts.policy ?? {});
  if (problems.length)
    throw new DataError(`promote: ${problems.map((p) => p.message).join("; ")}`, { field: "policy" });
  let modelId = typeof opts.model === "string" ? opts.model : undefined;
  if (opts.model && typeof opts.model === "object") modelId = (await client.uploadModel(opts.module, opts.model)).id;
  const notebook = opts.notebook ?? (typeof process !== "undefined" ? process.env?.JPY_SESSION_NAME : undefined);
  const body = {
    module: opts.module,
    mode: opts.mode ?? "live",
    ...(modelId ? { model_id: modelId } : {}),
    ...opts.policy,
    reason: opts.reason,
    ...(notebook ? { notebook } : {}),
  };
  const result = await client.trackedPolicy(() => client.post("/api/policy/promote", body), opts.timeoutMs ?? 60_000);
  return settled({ ...result, modelId: modelId ?? "" });
}

/** The shadow candidate goes live with its ev_min (`promote`), or is dropped; resolves when every agent acked. */
export async function endShadow(
  client: ControlPlaneClient,
  module: ModuleName,
  action: "promote" | "drop",
  opts: { reason?: string; timeoutMs?: number } = {},
): Promise<Promotion> {
  const path = `/api/shadow/${module}/${action}`;
  const result = await client.trackedPolicy(
    () => client.post(path, { reason: opts.reason ?? "" }),
    opts.timeoutMs ?? 60_000,
  );
  return settled({ ...result, modelId: result.outcome?.modelId ?? "" });
}

/** Live against shadow on the same opportunities, over the last minute and ten minutes. */
export function shadowComparison(client: ControlPlaneClient, module: ModuleName): Promise<ShadowView> {
  return client.get(`/api/shadow/${module}`);
}

/** What was in force at `at` (default now): policy, model, dataset, who, why, which agents acked. */
export function lineage(
  client: ControlPlaneClient,
  module: ModuleName,
  at?: number | Date | string,
): Promise<LineageView> {
  const t = at === undefined ? "" : `&at=${encodeURIComponent(at instanceof Date ? at.toISOString() : String(at))}`;
  return client.get(`/api/lineage?module=${module}${t}`);
}

/** One policy version's whole chain. */
export function lineageVersion(client: ControlPlaneClient, module: ModuleName, version: number): Promise<LineageView> {
  return client.get(`/api/lineage/${version}?module=${module}`);
}

function settled(result: Promotion): Promotion {
  if (result.request.state === ControlRequest_State.applied) return result;
  const why = result.request.outcomes
    .filter((o) => o.reason)
    .map((o) => `${o.agentId}: ${o.reason}`)
    .join("; ");
  throw new PromotionError(
    `policy v${result.version} ${ControlRequest_State[result.request.state]}${why ? `: ${why}` : result.request.reason ? `: ${result.request.reason}` : ""}`,
    result,
  );
}
