import { Type } from "@fastify/type-provider-typebox";
import { MODEL_TYPES } from "@mevlab/kernel-helpers/train";
import { StringEnum } from "../http/typebox";

// The blueprint's training body. The trainer checks the values again (ranges, feature names) and a
// job that it refuses fails with the trainer's code; what a schema can say is refused here with 400.

const MODULES = ["arbitrage", "mev", "arb"];
const num = (description: string) =>
  Type.Optional(Type.Number({ description, "x-error": "params.{path}: must be a number" }));
const int = (description: string) =>
  Type.Optional(Type.Integer({ minimum: 0, description, "x-error": "{path} must be a non-negative integer" }));

/** The trainer's parameters (docs/training.md, "Models and parameters") and their aliases. */
export const TrainingParams = Type.Object(
  {
    max_depth: int("tree depth (xgb, lgbm)"),
    learning_rate: num("shrinkage / Adam's step"),
    lr: num("alias of learning_rate"),
    eta: num("alias of learning_rate"),
    n_estimators: int("boosting rounds / epochs: the most that run"),
    epochs: int("alias of n_estimators"),
    num_boost_round: int("alias of n_estimators"),
    early_stopping_rounds: int("stop after this many without a better validation log loss; 0: off"),
    patience: int("alias of early_stopping_rounds"),
    seed: int("every random draw"),
    random_state: int("alias of seed"),
    threads: int("CPU threads; 0: the library's default"),
    n_jobs: int("alias of threads"),
    subsample: num("row sampling"),
    colsample_bytree: num("column sampling"),
    min_child_weight: num("xgb"),
    gamma: num("xgb"),
    num_leaves: int("lgbm"),
    min_child_samples: int("lgbm"),
    reg_lambda: num("L2"),
    reg_alpha: num("L1"),
    max_bin: int("histogram bins"),
    scale_pos_weight: num("weight of the positive class"),
    hidden: Type.Optional(Type.String({ description: "the MLP's hidden layers, e.g. 64,32" })),
    batch_size: int("torch"),
    weight_decay: num("torch"),
    dropout: num("torch"),
  },
  { additionalProperties: false, "x-error": "params must be an object of the trainer's parameters" },
);

const time = Type.Union([Type.String(), Type.Number()], {
  "x-error": "{path} must be an ISO date or unix milliseconds",
});
const modelName = StringEnum(MODEL_TYPES as string[], {
  "x-error": `{path}: unknown model {got} (use ${MODEL_TYPES.join(", ")})`,
});

export const TrainingStartBody = Type.Object(
  {
    module: StringEnum(MODULES, { "x-error": `module: must be one of ${MODULES.join(", ")}` }),
    range: Type.Object(
      { from: time, to: time },
      {
        additionalProperties: false,
        description: "from inclusive, to exclusive",
        "x-error": "range must be {from, to}",
      },
    ),
    features: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
        description: "default, extended, or a list of numeric columns",
        "x-error": "features: a set name (default, extended) or a non-empty list of columns",
      }),
    ),
    model: Type.Optional(
      Type.Union([modelName, Type.Array(modelName, { minItems: 1, uniqueItems: true })], {
        description: "xgb, lgbm, torch, or a list of them (default xgb)",
        "x-error": `model: one of ${MODEL_TYPES.join(", ")} or a list of them`,
      }),
    ),
    gpu: Type.Optional(
      Type.Union([Type.Boolean(), Type.Literal("auto")], {
        description: "default false",
        "x-error": 'gpu: true, false or "auto"',
      }),
    ),
    params: Type.Optional(TrainingParams),
    target: Type.Optional(Type.String({ minLength: 1, description: "the label column (default the module's)" })),
  },
  {
    additionalProperties: false,
    "x-error": "body must be a JSON object: {module, range, features, model, gpu, params}",
  },
);

export const TrainingJobParams = Type.Object({ job_id: Type.String() });

export const ModelParams = Type.Object({
  id: Type.String({ pattern: "^[0-9a-f]{64}$", description: "the model's sha256 (hex), as a job's model_ids" }),
});
