/** Real models for the agents' tests: the project's trainer on a few thousand synthetic rows. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "../../..");
const python = join(root, ".venv/bin/python");

function run(args: string[]): string {
  const r = spawnSync(python, args, { cwd: root, encoding: "utf8", env: { ...process.env, CUDA_VISIBLE_DEVICES: "" } });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(" ")} failed: ${r.stderr.slice(-1500)}`);
  return r.stdout;
}

/**
 * Synthetic arbitrage opportunities (mevlab/train/synthetic.py) with one more numeric column, `net_sol`,
 * which no agent computes before it decides: a model that reads it cannot run on the agents.
 */
export function syntheticArrow(rows: number, seed: number): string {
  const path = join(mkdtempSync(join(tmpdir(), "mevlab-agent-models-")), "opps.arrow");
  run([
    "-c",
    `import numpy as np, pyarrow as pa
from mevlab.train import synthetic
t = synthetic.opportunities(${rows}, seed=${seed})
t = t.append_column("net_sol", pa.array(np.random.default_rng(${seed}).random(${rows})))
synthetic.write_arrow(t, ${JSON.stringify(path)})`,
  ]);
  return path;
}

export interface Trained {
  id: string;
  /** `<out>/<id>`: model.onnx and card.json. */
  dir: string;
  out: string;
}

/** Trains one model; `out` collects several (a directory model source reads `<id>/model.onnx`). */
export function trainModel(
  arrow: string,
  out: string,
  opts: { model?: string; features?: string; trees?: number; module?: string; seed?: number } = {},
): Trained {
  const before = new Set(readdirSync(out, { withFileTypes: true }).map((d) => d.name));
  run([
    "-m",
    "mevlab.train",
    "--input",
    arrow,
    "--module",
    opts.module ?? "arbitrage",
    "--model",
    opts.model ?? "xgb",
    "--features",
    opts.features ?? "default",
    "--out",
    out,
    "--n-estimators",
    String(opts.trees ?? 20),
    "--param",
    "threads=1",
    "--param",
    `seed=${opts.seed ?? 0}`,
  ]);
  const id = readdirSync(out).find((d) => !d.startsWith(".") && !before.has(d));
  if (!id) throw new Error(`the trainer wrote no new model to ${out}`);
  return { id, dir: join(out, id), out };
}
