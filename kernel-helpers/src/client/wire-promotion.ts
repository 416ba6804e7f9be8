import { Type, type Static } from "@sinclair/typebox";

// The promotion answers (GET /api/lineage, GET /api/shadow/{module}), defined once for the control
// plane's response schemas and the client's types (wire.ts says why).

const Nullable = <T extends ReturnType<typeof Type.Object>>(t: T) => Type.Union([t, Type.Null()]);

/** A model of a version as its card tells it (`known: false` when the card is no longer in the store). */
export const LineageModel = Type.Object({
  id: Type.String(),
  model: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Union([Type.String(), Type.Null()]),
  params: Type.Unknown({ description: "the training parameters (card)" }),
  metrics: Type.Unknown({ description: "metrics per split (card)" }),
  git: Type.Unknown({ description: "{commit, trainer_modified} (card)" }),
  features: Type.Array(Type.String()),
  known: Type.Boolean(),
});
export type LineageModel = Static<typeof LineageModel>;

/** A version's chain (GET /api/lineage): free-form parts are the card's. */
export const LineageView = Type.Object(
  {
    module: Type.String(),
    version: Type.String(),
    parent_version: Type.String(),
    created_at: Type.Number(),
    author: Type.String(),
    reason: Type.String(),
    mode: Type.String(),
    notebook: Type.String(),
    policy: Type.Unknown({ description: "the Policy message in the contract's JSON mapping" }),
    model: Nullable(LineageModel),
    shadow_model: Nullable(LineageModel),
    dataset: Type.Unknown({ description: "the model card's dataset: {id, rows, …}, or null" }),
    request_id: Type.String(),
    request_state: Type.Union([Type.String(), Type.Null()]),
    acks: Type.Array(
      Type.Object({
        agent_id: Type.String(),
        outcome: Type.String(),
        reason: Type.String(),
        at: Type.Number(),
        model_id: Type.String(),
        policy_version: Type.String(),
      }),
    ),
  },
  { additionalProperties: false },
);
export type LineageView = Static<typeof LineageView>;

const SideView = Type.Object({
  model_id: Type.String(),
  accepted: Type.Integer({ description: "opportunities it would have sent" }),
  hit_rate: Type.Union([Type.Number(), Type.Null()], { description: "share of those that would have landed" }),
  ev_sol: Type.Number({ description: "counterfactual realised net SOL of those" }),
  mean_p: Type.Union([Type.Number(), Type.Null()], { description: "mean estimate over every opportunity" }),
  brier: Type.Union([Type.Number(), Type.Null()], { description: "mean squared error against landed" }),
});

/** `GET /api/shadow/{module}`. */
export const ShadowView = Type.Object(
  {
    module: Type.String(),
    active: Type.Boolean({ description: "a shadow candidate is deployed and being scored" }),
    live_model_id: Type.String(),
    shadow_model_id: Type.String(),
    windows: Type.Array(
      Type.Object({
        seconds: Type.Integer(),
        opportunities: Type.Integer(),
        landed_rate: Type.Union([Type.Number(), Type.Null()]),
        agreement: Type.Union([Type.Number(), Type.Null()], { description: "share of equal decisions" }),
        live: SideView,
        shadow: SideView,
        ev_delta_sol: Type.Number({ description: "shadow minus live counterfactual net SOL" }),
      }),
    ),
  },
  { additionalProperties: false },
);
export type ShadowView = Static<typeof ShadowView>;
