/**
 * What an uploaded model must be before it is stored: at most the size limit, loadable by
 * onnxruntime, the trainer's ONNX contract (docs/training.md, "Output"), and inputs that the module's
 * agents compute. Each refusal is an HttpError whose code and message say what is wrong.
 */
import { createHash } from "node:crypto";
import { InferenceSession } from "onnxruntime-node";
import { modelFeaturesProblem, type ModelCard, type ModuleName } from "@mevlab/kernel-helpers";
import { contractProblem, onnxFeatureNames, onnxMetadata } from "@mevlab/kernel-helpers/evaluate";
import { HttpError } from "../http/errors";

/** The length of the base64 text of `bytes` bytes (with padding). */
export const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 1024 * 1024 ? 3 : 1)} MiB`;

export function tooLarge(bytes: number | undefined, maxBytes: number): HttpError {
  const size = bytes === undefined ? "the upload is larger than that" : `it has ${bytes} bytes`;
  return new HttpError(
    413,
    "model_too_large",
    `a model may have at most ${maxBytes} bytes (${mib(maxBytes)}, MEVLAB_MODEL_MAX_BYTES); ${size}`,
  );
}

/** The uploaded bytes: 413 over the limit (told from the text's length, before decoding), 400 when not base64. */
export function decodeModel(text: string, maxBytes: number): Buffer {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const size = Math.floor((text.length * 3) / 4) - padding;
  if (size > maxBytes) throw tooLarge(size, maxBytes);
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw new HttpError(400, "bad_request", "onnx_base64 is not base64 (RFC 4648's alphabet, padded with =)");
  }
  return Buffer.from(text, "base64");
}

/** What the checks read from the model. */
export interface CheckedModel {
  features: string[];
  /** metadata_props: `mevlab.model_type`, `mevlab.target`, … */
  metadata: Map<string, string>;
}

const refuse = (code: string, message: string) => new HttpError(422, code, message);

/**
 * Loads the bytes as an agent would (onnxruntime, one thread) and checks the contract: one input
 * `features` float32 [N, F], an output `probability` float32, F feature names in
 * `mevlab.feature_names`, each one the module's agents compute.
 */
export async function checkModel(bytes: Uint8Array, module: ModuleName): Promise<CheckedModel> {
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (err) {
    throw refuse("bad_model", `onnxruntime could not load it: ${(err as Error).message}`);
  }
  try {
    const metadata = onnxMetadata(bytes);
    const features = onnxFeatureNames(bytes);
    if (!features) {
      throw refuse(
        "model_contract",
        "the model has no mevlab.feature_names metadata (a JSON list of its inputs' names)",
      );
    }
    const problem = contractProblem(session.inputMetadata, session.outputMetadata, features.length);
    if (problem) throw refuse("model_contract", `not a mevlab model: ${problem}`);
    const mismatch = modelFeaturesProblem(module, features);
    if (mismatch) throw refuse("features_mismatch", mismatch);
    return { features, metadata };
  } finally {
    await session.release();
  }
}

const sameList = (a: readonly unknown[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The card stored with a model: the uploaded one (or a minimal one), with `id`, `module` and
 * `features` taken from the model. An uploaded card that says otherwise is refused (422 `card_mismatch`).
 */
export function storedCard(
  given: Record<string, unknown> | undefined,
  model: { id: string; module: ModuleName; bytes: number } & CheckedModel,
): ModelCard {
  const mismatch = (field: string, says: unknown, is: unknown) =>
    refuse("card_mismatch", `card.${field} is ${JSON.stringify(says)}, the model's is ${JSON.stringify(is)}`);
  if (given?.id !== undefined && given.id !== model.id) throw mismatch("id", given.id, model.id);
  if (given?.module !== undefined && given.module !== model.module)
    throw mismatch("module", given.module, model.module);
  if (given?.features !== undefined && !(Array.isArray(given.features) && sameList(given.features, model.features))) {
    throw mismatch("features", given.features, model.features);
  }
  const target = model.metadata.get("mevlab.target");
  const card: Record<string, unknown> = {
    kind: "mevlab.model",
    card_version: 1,
    model: model.metadata.get("mevlab.model_type") ?? "unknown",
    created_at: new Date().toISOString(),
    ...(target ? { target } : {}),
    params: null,
    dataset: null,
    metrics: null,
    onnx: { file: "model.onnx", bytes: model.bytes, sha256: model.id },
    ...given,
    id: model.id,
    module: model.module,
    features: model.features,
  };
  return card as ModelCard;
}
