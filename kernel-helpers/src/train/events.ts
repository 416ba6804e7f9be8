/** The trainer's NDJSON events (docs/training.md, "Events") and what train() makes of them. */

export type ModelType = "xgb" | "lgbm" | "torch";
export const MODEL_TYPES: readonly ModelType[] = ["xgb", "lgbm", "torch"];

export interface SplitMetrics {
  logloss?: number | null;
  auc?: number | null;
  brier?: number | null;
  rows?: number;
}

/** One line of the trainer's stdout; `event` says which of the documented shapes it is. */
export interface TrainerEvent {
  event: "start" | "split" | "phase" | "iteration" | "model" | "done" | "error" | string;
  [field: string]: unknown;
}

/** The `model` event: one model published under `<out>/<id>/`. */
export interface ModelEvent extends TrainerEvent {
  event: "model";
  model: ModelType;
  id: string;
  dir: string;
  onnx: string;
  card: string;
  existing: boolean;
  device: string;
  metrics: Record<string, SplitMetrics>;
  parity_max_abs_diff: number;
  iterations: number;
  best_iteration: number;
  training_seconds: number;
}

/** How far a run has come, after each event that moves it. */
export interface TrainProgress {
  /** The models of the run, in training order. */
  models: ModelType[];
  /** The model being trained (undefined before the data is read). */
  model?: ModelType;
  /** `read` (before the split), `train`, `export`, `parity`, `done`. */
  phase: string;
  iteration: number;
  total: number;
  /** 0..1 over the whole run. */
  fraction: number;
  /** The last iteration's metrics. */
  train?: SplitMetrics;
  valid?: SplitMetrics;
  /** Models published so far. */
  published: number;
}

/** A trained model as train() returns it. */
export interface ModelHandle {
  /** sha256 (hex) of model.onnx: the directory's name. */
  id: string;
  model: ModelType;
  /** `<out>/<id>/model.onnx`, absolute. */
  onnxPath: string;
  /** `<out>/<id>`, absolute. */
  dir: string;
  /** card.json, parsed (docs/training.md, "Card"). */
  card: ModelCard;
  /** The same model bytes were there already. */
  existing: boolean;
}

/** card.json; the fields train() reads are typed, the rest are as the trainer wrote them. */
export interface ModelCard {
  kind: "mevlab.model";
  card_version: number;
  id: string;
  model: ModelType;
  features: string[];
  target: string;
  metrics: Record<string, SplitMetrics>;
  params: Record<string, unknown>;
  [field: string]: unknown;
}

/** Share of a model's progress bar that its iterations take (the rest: export and parity). */
const TRAIN_SHARE = 0.9;

/** Folds one event into the progress; returns whether it moved. */
export function advance(p: TrainProgress, e: TrainerEvent): boolean {
  const index = (m: unknown) => Math.max(0, p.models.indexOf(m as ModelType));
  const at = (i: number, within: number) => Math.min(1, (i + within) / Math.max(1, p.models.length));
  switch (e.event) {
    case "start":
      p.models = ((e.models as ModelType[] | undefined) ?? []).slice();
      return true;
    case "phase":
      p.model = e.model as ModelType;
      p.phase = String(e.phase);
      if (p.phase === "train") Object.assign(p, { iteration: 0, total: 0, train: undefined, valid: undefined });
      p.fraction = at(index(e.model), p.phase === "train" ? 0 : TRAIN_SHARE);
      return true;
    case "iteration":
      p.model = e.model as ModelType;
      p.iteration = Number(e.iteration);
      p.total = Number(e.total);
      p.train = e.train as SplitMetrics;
      p.valid = e.valid as SplitMetrics;
      p.fraction = at(index(e.model), (TRAIN_SHARE * p.iteration) / Math.max(1, p.total));
      return true;
    case "model":
      p.published += 1;
      p.fraction = at(index(e.model), 1);
      return true;
    case "done":
      Object.assign(p, { phase: "done", fraction: 1 });
      return true;
    default:
      return false;
  }
}
