import { Type, type TSchema, type Static } from "@fastify/type-provider-typebox";
import { MAX_RUNGS, MODULE_NAMES, POLICY_MESSAGES, type ActionName } from "@mevlab/kernel-helpers";
import { StringEnum } from "../http/typebox";

export { MODULE_NAMES };
/** The actions a `{module}:{action}` path names (retry_bundle has its own route). */
export const ACTION_NAMES = [
  "start",
  "stop",
  "restart",
  "throttle",
  "policy",
  "kill",
] as const satisfies readonly ActionName[];
// The policy fields' rules and words are kernel-helpers' validatePolicy(), shared with the agents.
export { MAX_RUNGS };
export const MAX_TEXT = 500;

const EXPECTED_MODULE = `expected one of ${MODULE_NAMES.join(", ")}`;

/** A module named in a body (400) or in a path (404). */
export const ModuleName = (options: Record<string, unknown> = {}) =>
  StringEnum(MODULE_NAMES, { "x-error": `unknown module {value}: ${EXPECTED_MODULE}`, ...options });

export const ModuleParams = Type.Object({ module: ModuleName({ "x-code": "unknown_module" }) });

/** The blueprint's fields of a control action, each worded as the API always has. */
export const controlFields = {
  throttle_pct: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, "x-error": POLICY_MESSAGES.throttle_pct })),
  ev_min: Type.Optional(Type.Number({ minimum: 0, "x-error": POLICY_MESSAGES.ev_min })),
  tip_ladder: Type.Optional(
    Type.Array(
      Type.Number({
        exclusiveMinimum: 0,
        exclusiveMaximum: 1,
        "x-error": POLICY_MESSAGES.rung,
      }),
      {
        minItems: 1,
        maxItems: MAX_RUNGS,
        description: "tip quantiles, strictly increasing",
        "x-error": POLICY_MESSAGES.ladder,
        "x-errors": {
          minItems: POLICY_MESSAGES.rungs,
          maxItems: POLICY_MESSAGES.rungs,
        },
      },
    ),
  ),
  kill: Type.Optional(Type.Boolean({ "x-error": "{path} must be true or false, got {got}" })),
};

export const text = (description: string) =>
  Type.String({
    maxLength: MAX_TEXT,
    description,
    "x-error": `{path} must be a string of at most ${MAX_TEXT} characters`,
  });

/** An object body: unknown fields refused; `{}` when no body is sent. */
export const body = <P extends Record<string, TSchema>>(properties: P, description: string) =>
  Type.Object(properties, {
    additionalProperties: false,
    default: {},
    description,
    "x-error": "body must be a JSON object",
  });

export const ControlBody = body(controlFields, "The blueprint body; throttle needs throttle_pct.");
export type ControlBody = Static<typeof ControlBody>;

export const ControlTarget = Type.Object({
  spec: Type.String({
    pattern: `^(${MODULE_NAMES.join("|")}):(${ACTION_NAMES.join("|")})$`,
    description: "{module}:{action}, e.g. mev:throttle",
  }),
});

export const PolicyUpdateBody = body(
  {
    module: ModuleName(),
    ...controlFields,
    model_id: Type.Optional(text("the promoted model's id")),
    reason: Type.Optional(text("why, for the lineage")),
  },
  "Changes to the module's current policy; at least one of throttle_pct, ev_min, tip_ladder, kill, model_id.",
);
export type PolicyUpdateBody = Static<typeof PolicyUpdateBody>;

export const RollbackBody = body(
  {
    version: Type.Integer({ minimum: 0, "x-error": "{path} must be a non-negative integer, got {got}" }),
    reason: Type.Optional(text("why, for the lineage")),
  },
  "Promotes the content of this earlier version as the next version.",
);

export const BundleRetryBody = body(
  {
    bundle_id: Type.String({
      minLength: 1,
      maxLength: MAX_TEXT,
      "x-error": `{path} must be a string of at most ${MAX_TEXT} characters`,
      "x-errors": { minLength: "{path} must be a non-empty string" },
    }),
    tip_lamports: Type.Union(
      [Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ pattern: "^[0-9]{1,20}$" })],
      {
        description: "lamports, an integer or a decimal string up to 2^64-1",
        "x-error": "{path} must be a positive integer of lamports, got {got}",
      },
    ),
  },
  "Sends retry_bundle to the MEV agents.",
);
