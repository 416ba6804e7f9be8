import { Type } from "@fastify/type-provider-typebox";
import { MODULE_NAMES, ModelCard } from "@mevlab/kernel-helpers";
import { StringEnum } from "../http/typebox";

const modules = `one of ${MODULE_NAMES.join(", ")}`;

/** `POST /api/models`: the card's own fields keep their types; the control plane fills in id, module and features. */
export const ModelUploadBody = Type.Object(
  {
    module: StringEnum(MODULE_NAMES, {
      description: "the agents that will run it: its inputs must be ones they compute",
      "x-error": `module: must be ${modules}`,
    }),
    onnx_base64: Type.String({
      minLength: 1,
      description: "model.onnx's bytes in base64 (at most MEVLAB_MODEL_MAX_BYTES once decoded)",
      "x-error": "onnx_base64 must be the model's bytes in base64, a non-empty string",
    }),
    card: Type.Optional(
      Type.Partial(ModelCard, {
        additionalProperties: true,
        description: "card.json as the trainer wrote it, or any of its fields",
        "x-error": "card must be a JSON object: the model's card.json ({path}: {value} does not fit)",
      }),
    ),
  },
  { additionalProperties: false, "x-error": "body must be a JSON object: {module, onnx_base64, card}" },
);

/** The id is checked in the handler: a malformed one is a 400, where a path parameter's schema says 404. */
export const ModelIdParams = Type.Object({
  id: Type.String({ description: "the model's sha256: 64 lowercase hex characters" }),
});

export const ModelsQuery = Type.Object(
  {
    module: Type.Optional(
      StringEnum(MODULE_NAMES, { description: "only this module's models", "x-error": `module: must be ${modules}` }),
    ),
  },
  { additionalProperties: false },
);

/** The bytes of model.onnx, as `GET /api/models/{id}/model.onnx` answers them. */
export const ModelBytes = {
  description: "model.onnx as stored; X-Mevlab-Sha256 is its id, which the bytes should hash to",
  headers: {
    "x-mevlab-sha256": { type: "string", description: "the model id: check the bytes against it before running them" },
  },
  content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
};
