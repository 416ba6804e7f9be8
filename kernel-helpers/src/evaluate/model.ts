/**
 * A trained model as onnxruntime-node runs it: the trainer's ONNX contract (docs/training.md) is one
 * input `features` float32 [N, F] and one output `probability` float32 [N], the feature names in the
 * metadata `mevlab.feature_names` and in card.json beside the file.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { DataError } from "../errors";
import { contractProblem } from "./onnx-contract";
import { onnxFeatureNames } from "./onnx-metadata";
import type { SplitMetrics } from "../train/events";

/** What card.json holds that evaluation reads; the rest stays available as it is. */
export interface ModelCard {
  id?: string;
  model?: string;
  features: string[];
  target?: string;
  time_column?: string;
  split?: Record<string, { rows: number; from: number | string; to: number | string } | unknown>;
  /** As train() reads it: the card is one document, whichever side reads it. */
  metrics?: Record<string, SplitMetrics>;
  parity?: { max_abs_diff: number; rows: number; limit: number; ok: boolean; native: string; split: string };
  [key: string]: unknown;
}

/** What train() returns, or enough of it: the ONNX file and, when there is one, its card. */
export interface ModelHandle {
  onnxPath: string;
  card?: ModelCard;
  id?: string;
}

export type ModelSource = string | ModelHandle;

/** Session options measured on the trainer's trees (docs/performance.md, training). */
export interface SessionTuning {
  intraOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  executionMode?: "sequential" | "parallel";
}

export class LoadedModel {
  private constructor(
    readonly session: InferenceSession,
    readonly features: readonly string[],
    readonly card: ModelCard | undefined,
    readonly onnxPath: string,
  ) {}

  static async load(source: ModelSource, tuning: SessionTuning = {}): Promise<LoadedModel> {
    const handle = typeof source === "string" ? { onnxPath: source } : source;
    if (!existsSync(handle.onnxPath)) {
      throw new DataError(`evaluate: no model at ${handle.onnxPath}`, { field: "model" });
    }
    const card = handle.card ?? readCard(handle.onnxPath);
    const session = await InferenceSession.create(handle.onnxPath, {
      intraOpNumThreads: tuning.intraOpNumThreads ?? 1,
      graphOptimizationLevel: tuning.graphOptimizationLevel ?? "all",
      executionMode: tuning.executionMode ?? "sequential",
    });
    const features = card?.features ?? metadataFeatures(handle.onnxPath);
    const problem = contractProblem(session.inputMetadata, session.outputMetadata, features.length);
    if (problem) {
      await session.release();
      throw new DataError(`evaluate: ${handle.onnxPath} is not a mevlab model: ${problem}`, { field: "model" });
    }
    return new LoadedModel(session, features, card, handle.onnxPath);
  }

  get target(): string | undefined {
    return this.card?.target;
  }

  /** P(target = 1) for `rows` rows of a row-major float32 matrix in this model's feature order. */
  async predict(x: Float32Array, rows = x.length / this.features.length): Promise<Float32Array> {
    const input = new Tensor("float32", x, [rows, this.features.length]);
    const out = await this.session.run({ features: input }, ["probability"]);
    return out.probability.data as Float32Array;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function readCard(onnxPath: string): ModelCard | undefined {
  const path = join(dirname(onnxPath), "card.json");
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as ModelCard) : undefined;
}

/** The feature names from the file's metadata, for a model without its card. */
function metadataFeatures(onnxPath: string): string[] {
  const names = onnxFeatureNames(readFileSync(onnxPath));
  if (!names) {
    throw new DataError(`evaluate: ${onnxPath} has no card.json and no mevlab.feature_names metadata`, {
      field: "model",
    });
  }
  return names;
}
