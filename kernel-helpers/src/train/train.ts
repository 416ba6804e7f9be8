/** train(): the Python trainer on a table, a slice or a dataset, with a progress bar and a model handle per model. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { TrainError } from "../errors";
import {
  advance,
  type ModelCard,
  type ModelEvent,
  type ModelHandle,
  type ModelType,
  type TrainerEvent,
  type TrainProgress,
} from "./events";
import { prepareInput, type InputOptions, type TrainInput } from "./input";
import { defaultPython, findRepo, runTrainer } from "./process";
import { ProgressView, type ProgressViewOptions } from "./view";

export interface TrainOptions extends InputOptions {
  /** `arbitrage` / `mev` (alias `arb`): the table, the feature sets and the target. */
  module?: string;
  /** `default`, `extended`, or your own numeric columns. */
  features?: string | readonly string[];
  /** The 0/1 or boolean label column (default the module's). */
  target?: string;
  /** A dataset directory's table. */
  table?: string;
  timeColumn?: string;
  /** One model or several, trained one after the other (default `xgb`). */
  model?: ModelType | readonly ModelType[];
  gpu?: boolean | "auto";
  /** `max_depth`, `learning_rate` / `lr`, `n_estimators` / `epochs`, `seed`, … (docs/training.md). */
  params?: Readonly<Record<string, unknown>>;
  /** train, valid, test fractions in time order (default 0.7, 0.15, 0.15). */
  split?: readonly number[];
  /** Models go to `<out>/<sha256>/` (default `models`). */
  out?: string;
  /** The Python that runs the trainer: default MEVLAB_PYTHON, the checkout's `.venv/bin/python`, `python3`. */
  python?: string;
  /** Extra environment for the trainer (`CUDA_VISIBLE_DEVICES`, `MEVLAB_LOG_LEVEL`, …). */
  env?: Record<string, string | undefined>;
  /** Each stderr line of the trainer (its logs). */
  onLog?: (line: string) => void;
  /** Each NDJSON event, as parsed. */
  onEvent?: (event: TrainerEvent) => void;
  /** After each event that moves the run. */
  onProgress?: (progress: TrainProgress) => void;
  /** The progress bar: `auto` (tslab's display, a terminal line or plain lines), `none`, … */
  progress?: ProgressViewOptions["mode"] | ProgressViewOptions;
}

/** The trainer's command-line arguments for these options. */
export function trainerArgs(inputPath: string, opts: TrainOptions): string[] {
  const models = [opts.model ?? "xgb"].flat();
  const args = ["--input", inputPath, "--model", models.join(","), "--out", resolve(opts.out ?? "models")];
  const add = (flag: string, v: string | undefined) => v !== undefined && args.push(flag, v);
  add("--module", opts.module);
  add("--features", opts.features === undefined ? undefined : [opts.features].flat().join(","));
  add("--target", opts.target);
  add("--table", opts.table);
  add("--time-column", opts.timeColumn);
  add("--split", opts.split?.join(","));
  add("--gpu", opts.gpu === undefined ? undefined : String(opts.gpu));
  add("--params", opts.params ? JSON.stringify(opts.params) : undefined);
  return args;
}

/**
 * Trains one model per `model` on the input and returns their handles. Throws a TrainError with the
 * trainer's code (`cancelled` when `signal` aborts it); a model is published whole or not at all.
 */
export async function train(input: TrainInput, opts: TrainOptions = {}): Promise<ModelHandle[]> {
  const view = new ProgressView(typeof opts.progress === "object" ? opts.progress : { mode: opts.progress });
  const progress: TrainProgress = {
    models: [opts.model ?? "xgb"].flat(),
    phase: "read",
    iteration: 0,
    total: 0,
    fraction: 0,
    published: 0,
  };
  const prepared = await prepareInput(input, opts);
  const repoDir = findRepo();
  try {
    const outcome = await runTrainer({
      python: opts.python ?? defaultPython(repoDir),
      args: trainerArgs(prepared.path, opts),
      repoDir,
      env: opts.env,
      signal: opts.signal,
      onLog: opts.onLog ?? (() => undefined),
      onEvent: (e) => {
        opts.onEvent?.(e);
        if (!advance(progress, e)) return;
        opts.onProgress?.({ ...progress });
        view.update(progress);
      },
    });
    const handles = await Promise.all(outcome.models.map(handle));
    view.finish(progress, `done: ${handles.map((h) => `${h.model} ${h.id.slice(0, 12)}`).join(", ")}`);
    return handles;
  } catch (err) {
    view.finish(progress, err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    prepared.cleanup();
  }
}

/** The handle of a published model, its card read from disk. */
export async function handle(e: ModelEvent): Promise<ModelHandle> {
  let card: ModelCard;
  try {
    card = JSON.parse(await readFile(e.card, "utf8")) as ModelCard;
  } catch (err) {
    throw new TrainError("protocol", `the trainer published ${e.dir} but its card cannot be read`, { cause: err });
  }
  return { id: e.id, model: e.model, onnxPath: e.onnx, dir: e.dir, card, existing: e.existing };
}
