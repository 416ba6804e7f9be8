/**
 * Promotion with lineage: a model and its policy go to a module's agents live or in shadow, checked
 * first (the model is in the store, is the module's and reads only what its agents compute; the
 * policy passes the rules the editor and the agents share), recorded with how and from where, then
 * signed and sent. What was in force at any time, and the whole chain of a version, are read back.
 */
import {
  AckOutcome,
  ControlRequest_State,
  Module,
  PolicySchema,
  toWireJson,
  type ControlRequest,
  type JsonValue,
  type Policy,
} from "@mevlab/proto";
import { modelFeaturesProblem, type ModelCard } from "@mevlab/kernel-helpers";
import type { ControlService, Issuer } from "../control/service";
import type { RequestTracker } from "../control/requests";
import { HttpError, badRequest } from "../http/errors";
import type { ModelStore } from "../models/store";
import type { LineageStore, PromotionMode } from "./lineage";
import type { LineageViewJson } from "./promote-schemas";
import type { ShadowTracker } from "./shadow";
import type { PolicyChanges, PolicyStore } from "./store";

export interface PromotionDeps {
  service: ControlService;
  policies: PolicyStore;
  lineage: LineageStore;
  models: ModelStore;
  tracker: RequestTracker;
  shadow: ShadowTracker;
}

export interface PromoteRequest {
  module: "arbitrage" | "mev";
  mode: "live" | "shadow";
  model_id?: string;
  ev_min?: number;
  tip_ladder?: number[];
  throttle_pct?: number;
  kill?: boolean;
  reason: string;
  notebook?: string;
}

/** The model's card when it can run on the module's agents; a 404 or 422 naming why not. */
export async function checkModel(models: ModelStore, module: "arbitrage" | "mev", id: string): Promise<ModelCard> {
  const card = await models.card(id);
  if (!card)
    throw new HttpError(404, "unknown_model", `no model ${id} in the model store (upload it first: POST /api/models)`);
  if (card.module && card.module !== module) {
    throw new HttpError(422, "model_module", `model ${id.slice(0, 12)} was trained for ${card.module}, not ${module}`);
  }
  const problem = modelFeaturesProblem(module, card.features ?? []);
  if (problem) throw new HttpError(422, "features_mismatch", `model ${id.slice(0, 12)}: ${problem}`);
  return card;
}

/** Live: the model and policy fields become the module's next version. Shadow: the candidate is scored beside it. */
export async function promote(
  deps: PromotionDeps,
  req: PromoteRequest,
  who: Issuer,
): Promise<{ policy: Policy; request: ControlRequest }> {
  if (!req.reason.trim()) throw badRequest("reason must say why (it is kept in the lineage)");
  if (req.model_id) await checkModel(deps.models, req.module, req.model_id);
  const module = Module[req.module];
  let changes: PolicyChanges;
  if (req.mode === "shadow") {
    if (!req.model_id) throw badRequest("shadow needs model_id: the candidate to score beside the live model");
    const extra = (["tip_ladder", "throttle_pct", "kill"] as const).filter((k) => req[k] !== undefined);
    if (extra.length) throw badRequest(`in shadow mode only model_id and ev_min apply, not ${extra.join(", ")}`);
    changes = { shadow: { modelId: req.model_id, evMin: req.ev_min ?? deps.policies.current(module).evMin } };
  } else {
    const current = deps.policies.current(module);
    changes = {
      modelId: req.model_id,
      evMin: req.ev_min,
      tipLadder: req.tip_ladder,
      throttlePct: req.throttle_pct,
      kill: req.kill,
      // A candidate made live is no longer a shadow of itself.
      shadow: req.model_id && current.shadow?.modelId === req.model_id ? null : undefined,
    };
  }
  return record(deps, module, req.mode, req.notebook ?? "", () =>
    deps.service.promote(module, changes, who, req.reason),
  );
}

/** The shadow candidate becomes the live model with its ev_min (`promote`), or is dropped. */
export async function endShadow(
  deps: PromotionDeps,
  moduleName: "arbitrage" | "mev",
  action: "promote" | "drop",
  reason: string,
  who: Issuer,
): Promise<{ policy: Policy; request: ControlRequest }> {
  const module = Module[moduleName];
  const shadow = deps.policies.current(module).shadow;
  if (!shadow?.modelId) throw new HttpError(409, "no_shadow", `${moduleName} has no shadow candidate`);
  const changes: PolicyChanges =
    action === "promote" ? { modelId: shadow.modelId, evMin: shadow.evMin, shadow: null } : { shadow: null };
  const why = reason || (action === "promote" ? "shadow promoted to live" : "shadow dropped");
  return record(deps, module, action === "promote" ? "shadow_to_live" : "shadow_drop", "", () =>
    deps.service.promote(module, changes, who, why),
  );
}

/** POST /api/policy/update: the changes as the next version, recorded as an `update`. */
export function updateWithLineage(
  deps: PromotionDeps,
  module: Module,
  changes: PolicyChanges,
  who: Issuer,
  reason: string,
): Promise<{ policy: Policy; request: ControlRequest }> {
  return record(deps, module, "update", "", () => deps.service.promote(module, changes, who, reason));
}

export async function rollbackWithLineage(
  deps: PromotionDeps,
  module: Module,
  version: bigint,
  reason: string,
  who: Issuer,
): Promise<{ policy: Policy; request: ControlRequest }> {
  return record(deps, module, "rollback", "", () => deps.service.rollback(module, version, who, reason));
}

async function record(
  deps: PromotionDeps,
  module: Module,
  mode: PromotionMode,
  notebook: string,
  run: () => Promise<{ policy: Policy; request: ControlRequest }>,
): Promise<{ policy: Policy; request: ControlRequest }> {
  const result = await run();
  deps.lineage.record({
    module: Module[module],
    version: String(result.policy.version),
    mode,
    request_id: result.request.requestId,
    notebook,
    at: Number(result.policy.createdAt),
  });
  return result;
}

/** One version's whole chain: policy, model card, dataset, how and by whom, which agents acked. */
export async function lineageView(deps: PromotionDeps, module: Module, policy: Policy): Promise<LineageViewJson> {
  const entry = deps.lineage.get(Module[module], policy.version);
  const card = policy.modelId ? await deps.models.card(policy.modelId) : undefined;
  const shadowCard = policy.shadow?.modelId ? await deps.models.card(policy.shadow.modelId) : undefined;
  const request = entry?.request_id ? deps.tracker.get(entry.request_id) : undefined;
  const model = (id: string, c: ModelCard | undefined) =>
    id
      ? {
          id,
          model: c?.model ?? null,
          created_at: c?.created_at ?? null,
          params: (c?.params ?? null) as JsonValue,
          metrics: (c?.metrics ?? null) as JsonValue,
          git: ((c as Record<string, unknown> | undefined)?.git ?? null) as JsonValue,
          features: c?.features ?? [],
          known: c !== undefined,
        }
      : null;
  return {
    module: Module[module],
    version: String(policy.version),
    parent_version: String(policy.parentVersion),
    created_at: Number(policy.createdAt),
    author: policy.author,
    reason: policy.reason,
    mode: entry?.mode ?? (policy.version === 0n ? "default" : "update"),
    notebook: entry?.notebook ?? "",
    policy: toWireJson(PolicySchema, policy),
    model: model(policy.modelId, card),
    shadow_model: policy.shadow ? model(policy.shadow.modelId, shadowCard) : null,
    dataset: (card?.dataset ?? null) as JsonValue,
    request_id: entry?.request_id ?? "",
    request_state: request ? requestStateName(request) : null,
    acks: (request?.outcomes ?? []).map((o) => ({
      agent_id: o.agentId,
      outcome: ackName(o.outcome),
      reason: o.reason,
      at: Number(o.at),
      model_id: o.modelId,
      policy_version: String(o.policyVersion),
    })),
  };
}

const ackName = (o: AckOutcome) => AckOutcome[o] ?? String(o);
const requestStateName = (r: ControlRequest) => ControlRequest_State[r.state] ?? String(r.state);
