// evaluate() on a model the trainer really trained: its metrics are the direct computations, its
// onnxruntime-node predictions match Python's onnxruntime on the same file, and its split is the card's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { compare, evaluate, type ModelCard } from "../src/evaluate";

const root = join(__dirname, "../../..");
const python = join(root, ".venv/bin/python");

/** Trains xgb on 3,000 synthetic rows; returns the Arrow file, the model dir and Python's predictions. */
function trained(): { arrow: string; dir: string; reference: number[] } {
  const tmp = mkdtempSync(join(tmpdir(), "mevlab-eval-"));
  const arrow = join(tmp, "opps.arrow");
  const mk = `from mevlab.train import synthetic; synthetic.write_arrow(synthetic.opportunities(3000, seed=11), ${JSON.stringify(arrow)})`;
  const run = (args: string[]) => {
    const r = spawnSync(python, args, {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, CUDA_VISIBLE_DEVICES: "" },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  run(["-c", mk]);
  const out = join(tmp, "models");
  run([
    "-m",
    "mevlab.train",
    "--input",
    arrow,
    "--module",
    "arbitrage",
    "--model",
    "xgb",
    "--out",
    out,
    "--n-estimators",
    "40",
    "--param",
    "threads=1",
  ]);
  const dir = join(
    out,
    readdirSync(out).find((d) => !d.startsWith("."))!,
  );
  const predict = `import onnxruntime as ort, pyarrow as pa, numpy as np, json
t = pa.ipc.open_file(pa.memory_map(${JSON.stringify(arrow)})).read_all()
card = json.load(open(${JSON.stringify(join(dir, "card.json"))}))
x = np.column_stack([t[c].to_numpy(zero_copy_only=False).astype(np.float32) for c in card["features"]])
s = ort.InferenceSession(${JSON.stringify(join(dir, "model.onnx"))}, providers=["CPUExecutionProvider"])
print(json.dumps(s.run(["probability"], {"features": x})[0].astype(float).tolist()))`;
  return { arrow, dir, reference: JSON.parse(run(["-c", predict])) as number[] };
}

function bruteAuc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let good = 0;
  let pairs = 0;
  for (let i = 0; i < p.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < p.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      good += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return good / pairs;
}

test("evaluate: a trained xgb model's metrics, its parity with Python's onnxruntime, the card's split", async () => {
  const { arrow, dir, reference } = trained();
  const table = tableFromIPC(readFileSync(arrow));
  const card = JSON.parse(readFileSync(join(dir, "card.json"), "utf8")) as ModelCard;
  const ev = await evaluate({ onnxPath: join(dir, "model.onnx") }, table, { reference });

  const y = table.getChild("cf_would_land")!.toArray() as unknown as ArrayLike<boolean>;
  const labels = Array.from({ length: table.numRows }, (_, i) => (y[i] ? 1 : 0));
  const p = ev.predictions;
  assert.equal(p.length, 3000);
  assert.deepEqual(ev.features, card.features);
  assert.ok(Math.abs(ev.model.scores.auc - bruteAuc(p, labels)) < 1e-12, `AUC ${ev.model.scores.auc}`);
  let ll = 0;
  let br = 0;
  labels.forEach((l, i) => {
    ll -= l ? Math.log(p[i]) : Math.log(1 - p[i]);
    br += (p[i] - l) ** 2;
  });
  assert.ok(Math.abs(ev.model.scores.logLoss - ll / 3000) < 1e-9);
  assert.ok(Math.abs(ev.model.scores.brier - br / 3000) < 1e-12);
  assert.ok(ev.model.scores.auc > 0.7, "the model learnt something");
  assert.equal(ev.model.scores.calibration.length, 10);
  assert.equal(
    ev.model.scores.calibration.reduce((s, c) => s + c.rows, 0),
    3000,
  );
  const at5 = ev.model.scores.thresholds.find((t) => t.threshold === 0.5)!;
  assert.equal(at5.predictedPositive, Array.from(p).filter((v) => v >= 0.5).length);

  const [runtime, trainer] = ev.parity;
  assert.equal(runtime.source, "reference");
  assert.ok(runtime.maxAbsDiff <= 1e-5 && runtime.ok, `onnxruntime-node vs Python: ${runtime.maxAbsDiff}`);
  assert.deepEqual([trainer.source, trainer.maxAbsDiff], ["card", card.parity!.max_abs_diff]);

  // The held-out split is the card's: its rows, and the trainer's own test AUC within float32 rounding.
  const test = await evaluate(join(dir, "model.onnx"), table, { split: "test" });
  assert.equal(test.model.scores.rows, (card.split!.test as { rows: number }).rows);
  assert.ok(Math.abs(test.model.scores.auc - card.metrics!.test.auc!) < 1e-6, `${test.model.scores.auc}`);

  const c = compare(test, ev, ["test", "all"]);
  assert.equal(c.charts.roc.data.length, 3);
  assert.ok(Math.abs(c.delta.auc - (ev.model.scores.auc - test.model.scores.auc)) < 1e-12);
});

test("evaluate refuses a table without the model's features, naming the column", async () => {
  const { arrow, dir } = trained();
  const table = tableFromIPC(readFileSync(arrow)).select(["ts_ms", "f_hotpath_us", "cf_would_land"]);
  await assert.rejects(evaluate(join(dir, "model.onnx"), table), /no column 'f_tip_ratio_p75'/);
});
