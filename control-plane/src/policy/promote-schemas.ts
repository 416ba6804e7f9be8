import { Type, type Static } from "@fastify/type-provider-typebox";
import { ModuleName, body, controlFields, text } from "../control/schemas";

const ModelId = (description: string) =>
  Type.String({
    pattern: "^[0-9a-f]{64}$",
    description,
    "x-error": "{path} must be a model id: the sha256 of its ONNX file, 64 lowercase hex digits",
  });

export const PromoteBody = body(
  {
    module: ModuleName(),
    mode: Type.Optional(
      Type.Union([Type.Literal("live"), Type.Literal("shadow")], {
        description: "live (default): the next version runs it; shadow: scored beside the live model, never acted on",
        "x-error": "{path} must be live or shadow, got {got}",
      }),
    ),
    model_id: Type.Optional(ModelId("the model, already in the model store")),
    ...controlFields,
    reason: text("why: kept in the lineage (required)"),
    notebook: Type.Optional(text("the notebook it was promoted from")),
  },
  "A model and its policy for a module's agents, with lineage.",
);
export type PromoteBody = Static<typeof PromoteBody>;

export const ShadowEndBody = body(
  { reason: Type.Optional(text("why, for the lineage")) },
  "Makes the shadow candidate live, or drops it.",
);

export const LineageQuery = Type.Object(
  {
    module: ModuleName(),
    at: Type.Optional(
      Type.String({
        pattern:
          "^([0-9]{1,15}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)$",
        description: "ms since the epoch or an ISO 8601 time, e.g. 2026-11-30T14:32:00Z (default: now)",
        "x-error": "{path} must be ms since the epoch or an ISO 8601 time, got {got}",
      }),
    ),
  },
  { additionalProperties: false },
);

export const LineageVersionParams = Type.Object({
  version: Type.String({
    pattern: "^[0-9]{1,19}$",
    description: "the policy version",
    "x-error": "{path} must be a policy version (a non-negative integer), got {got}",
  }),
});

export const LineageVersionQuery = Type.Object({ module: ModuleName() }, { additionalProperties: false });

export {
  LineageView,
  ShadowView as ShadowViewSchema,
  type LineageView as LineageViewJson,
} from "@mevlab/kernel-helpers";
