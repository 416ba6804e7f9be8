/** A training job: the slice from the control plane's own store, the trainer run by train(). */
import { join } from "node:path";
import type { Job } from "@mevlab/proto";
import type { DataSource } from "@mevlab/kernel-helpers";
import { train, type ModelType } from "@mevlab/kernel-helpers/train";
import type { KindRunner } from "../datasets/jobs";

/** What a training job was asked, as journaled. */
export interface TrainingSpec {
  module: string;
  from: string | number;
  to: string | number;
  features?: string | string[];
  models: ModelType[];
  gpu: boolean | "auto";
  params: Record<string, unknown>;
  target?: string;
}

export interface TrainingRunnerOptions {
  source: DataSource;
  /** Models land under `<dataDir>/models/`, the slice's Arrow file under `<dataDir>/training/`. */
  dataDir: string;
  /** The trainer's Python (default train()'s). */
  python?: string;
  env?: Record<string, string | undefined>;
  /** Minimum time between two progress snapshots (default 250 ms). */
  progressEveryMs?: number;
}

const LOG_TAIL = 20;

export function modelsDir(dataDir: string): string {
  return join(dataDir, "models");
}

/** The runner of the job kind "training". */
export function trainingRunner(opts: TrainingRunnerOptions): KindRunner {
  return async (job, raw, signal, update) => {
    const spec = raw as TrainingSpec;
    const tail: string[] = [];
    const every = opts.progressEveryMs ?? 250;
    let last = 0;
    const handles = await train(
      { stream: spec.module === "mev" ? "mev" : "arb", from: spec.from, to: spec.to },
      {
        source: opts.source,
        workDir: join(opts.dataDir, "training"),
        out: modelsDir(opts.dataDir),
        module: spec.module,
        features: spec.features,
        target: spec.target,
        model: spec.models,
        gpu: spec.gpu,
        params: spec.params,
        python: opts.python,
        env: opts.env,
        signal,
        progress: "none",
        onLog: (line) => {
          tail.push(line);
          if (tail.length > LOG_TAIL) tail.shift();
        },
        onEvent: (e) => {
          if (e.event === "model") update({ modelIds: [...job.modelIds, String(e.id)] });
          if (e.event === "split") update({ rows: BigInt(Number(e.rows) || 0) }, false);
        },
        onProgress: (p) => {
          const now = Date.now();
          if (now - last < every && p.phase === "train" && p.iteration < p.total) return;
          last = now;
          const changes: Partial<Job> = { phase: p.phase, fraction: p.fraction, logTail: tail.slice() };
          if (p.model) Object.assign(changes, { model: p.model, iteration: p.iteration, total: p.total });
          if (p.valid) changes.metricsJson = JSON.stringify({ train: p.train, valid: p.valid });
          update(changes, false);
        },
      },
    ).catch((err: unknown) => {
      update({ logTail: tail.slice() }, false);
      throw err;
    });
    update({
      state: "succeeded",
      finishedAt: BigInt(Date.now()),
      phase: "done",
      fraction: 1,
      modelIds: handles.map((h) => h.id),
      output: modelsDir(opts.dataDir),
      logTail: tail.slice(),
    });
  };
}
