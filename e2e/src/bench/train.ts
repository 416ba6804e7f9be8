// Training and inference on 1M synthetic rows (mevlab/train/synthetic.py), side by side in one run:
// train() of the helper library against XGBoost called directly in Python on the same Arrow file (same
// split, parameters and rounds), onnxruntime-node batch inference against native inplace_predict on the
// same rows with the same number of threads, single-row latency in Node, and parity between the two.
// `npm run bench:train -- [--rows 1000000] [--rounds 50] [--repeats 3] [--json]`
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LoadedModel, type SessionTuning } from "@mevlab/kernel-helpers/evaluate";
import { train } from "@mevlab/kernel-helpers/train";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROWS = arg("rows", 1_000_000);
const ROUNDS = arg("rounds", 50);
const REPEATS = arg("repeats", 3);
const JSON_OUT = process.argv.includes("--json");
const root = join(__dirname, "../../../..");
const python = join(root, ".venv/bin/python");
const tmp = mkdtempSync(join(tmpdir(), "mevlab-bench-train-"));
const arrow = join(tmp, "opps.arrow");
const FEATURES =
  "f_tip_ratio_p75,f_hotpath_us,f_competing_bundles,f_pool_liquidity_lamports,f_route_hops,f_leader_slot_index";

/** XGBoost alone: read the file, the trainer's time-ordered split and parameters, train, predict. */
const DIRECT = `import sys, time, json, numpy as np, pyarrow as pa, xgboost as xgb
t = pa.ipc.open_file(pa.memory_map(sys.argv[1])).read_all().sort_by("ts_ms")
x = np.column_stack([t[c].to_numpy(zero_copy_only=False).astype(np.float32) for c in "${FEATURES}".split(",")])
y = t["cf_would_land"].to_numpy(zero_copy_only=False).astype(np.float32)
a, b = int(len(y) * 0.7), int(len(y) * 0.85)
p = {"objective": "binary:logistic", "eval_metric": ["logloss"], "tree_method": "hist", "max_depth": 6, "eta": 0.1, "seed": 0, "max_bin": 256}
bst = xgb.train(p, xgb.DMatrix(x[:a], label=y[:a]), int(sys.argv[2]), evals=[(xgb.DMatrix(x[a:b], label=y[a:b]), "valid")], verbose_eval=False)
if sys.argv[3] == "predict":
    out = {}
    for threads in (1, 2):
        bst.set_param({"nthread": threads}); pred = bst.inplace_predict(x); times = []
        for _ in range(5):
            s = time.perf_counter(); pred = bst.inplace_predict(x); times.append(time.perf_counter() - s)
        out[str(threads)] = sorted(times)[2]
    pred.astype(np.float32).tofile(sys.argv[4]); x.tofile(sys.argv[4] + ".x")
    print(json.dumps(out))`;

function py(args: string[]): { s: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(python, args, { cwd: root, encoding: "utf8", env: { ...process.env, CUDA_VISIBLE_DEVICES: "" } });
  if (r.status !== 0) throw new Error(`${args.slice(0, 3).join(" ")} failed: ${r.stderr.slice(-2000)}`);
  return { s: (performance.now() - t0) / 1000, out: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

/** train() and XGBoost alone, alternating, so both see the same machine. */
async function trainBoth(): Promise<{ trainer: number[]; direct: number[]; onnx: string }> {
  const trainer: number[] = [];
  const direct: number[] = [];
  let onnx = "";
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const [model] = await train(arrow, {
      module: "arbitrage",
      model: "xgb",
      out: join(tmp, `models-${i}`),
      params: { n_estimators: ROUNDS, early_stopping_rounds: 0 },
      env: { CUDA_VISIBLE_DEVICES: "" },
      progress: "none",
      onLog: () => undefined,
    });
    trainer.push((performance.now() - t0) / 1000);
    onnx = model.onnxPath;
    direct.push(py(["-c", DIRECT, arrow, String(ROUNDS), "train"]).s);
  }
  return { trainer, direct, onnx };
}

async function timeBatch(
  onnx: string,
  x: Float32Array,
  tuning: SessionTuning,
): Promise<{ s: number; p: Float32Array }> {
  const m = await LoadedModel.load(onnx, tuning);
  let p = await m.predict(x); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    p = await m.predict(x);
    times.push((performance.now() - t0) / 1000);
  }
  await m.close();
  return { s: median(times), p };
}

async function singleRow(onnx: string, x: Float32Array, features: number): Promise<number[]> {
  const m = await LoadedModel.load(onnx, { intraOpNumThreads: 1 });
  const us: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const row = x.subarray(i * features, (i + 1) * features);
    const t0 = process.hrtime.bigint();
    await m.predict(row, 1);
    if (i >= 1_000) us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await m.close();
  return us;
}

async function main(): Promise<void> {
  py([
    "-c",
    `from mevlab.train import synthetic; synthetic.write_arrow(synthetic.opportunities(${ROWS}, seed=11), ${JSON.stringify(arrow)})`,
  ]);
  const { trainer, direct, onnx } = await trainBoth();
  const predFile = join(tmp, "native.f32");
  const native = JSON.parse(py(["-c", DIRECT, arrow, String(ROUNDS), "predict", predFile]).out) as Record<
    "1" | "2",
    number
  >;
  const nativeP = new Float32Array(readFileSync(predFile).buffer.slice(0));
  const x = new Float32Array(readFileSync(`${predFile}.x`).buffer.slice(0));
  const variants: Record<string, SessionTuning> = {
    "1 thread, all optimisations": { intraOpNumThreads: 1 },
    "2 threads, all optimisations": { intraOpNumThreads: 2 },
    "2 threads, basic optimisations": { intraOpNumThreads: 2, graphOptimizationLevel: "basic" },
    "2 threads, parallel execution": { intraOpNumThreads: 2, executionMode: "parallel" },
  };
  const batch: Record<string, number> = {};
  let parity = 0;
  for (const [name, tuning] of Object.entries(variants)) {
    const r = await timeBatch(onnx, x, tuning);
    batch[name] = r.s;
    for (let i = 0; i < r.p.length; i++) parity = Math.max(parity, Math.abs(r.p[i] - nativeP[i]));
  }
  const oneThread = batch["1 thread, all optimisations"];
  const best = Math.min(...Object.values(batch));
  const us = await singleRow(onnx, x, FEATURES.split(",").length);
  const result = {
    rows: ROWS,
    rounds: ROUNDS,
    repeats: REPEATS,
    train_overhead_ratio: median(trainer) / median(direct),
    // Same thread count on both sides; the best of each side is the second ratio.
    onnx_vs_native_predict_ratio: oneThread / native["1"],
    onnx_vs_native_best_ratio: best / Math.min(native["1"], native["2"]),
    single_row_us: { p50: quantile(us, 0.5), p99: quantile(us, 0.99) },
    parity_max_abs_diff: parity,
    seconds: {
      trainer: trainer,
      direct: direct,
      native_predict: { "1 thread": native["1"], "2 threads": native["2"] },
      onnx_batch: batch,
    },
  };
  process.stdout.write((JSON_OUT ? JSON.stringify(result) : JSON.stringify(result, null, 2)) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
