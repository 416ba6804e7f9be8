// Real models for the model store's tests, made by the trainer (`python -m mevlab.train`) on synthetic
// opportunities, and one hand-made ONNX graph that breaks the contract.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(__dirname, "../../..");
const python = join(root, ".venv/bin/python");

/** A trained model: its directory `<out>/<id>/` with model.onnx and card.json. */
export interface TrainedModel {
  id: string;
  dir: string;
  onnxPath: string;
  bytes: Buffer;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(python, args, { cwd: root, env: { ...process.env, CUDA_VISIBLE_DEVICES: "" } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")}: exit ${code}\n${err}`))));
  });
}

async function trained(arrow: string, out: string, args: string[]): Promise<TrainedModel> {
  await run(["-m", "mevlab.train", "--input", arrow, "--model", "xgb", "--out", out, "--n-estimators", "5", ...args]);
  const ids = readdirSync(out).filter((d) => !d.startsWith("."));
  assert.equal(ids.length, 1, `one model in ${out}`);
  const dir = join(out, ids[0]);
  const onnxPath = join(dir, "model.onnx");
  return { id: ids[0], dir, onnxPath, bytes: readFileSync(onnxPath) };
}

// A graph of the right output but whose input is `x`, not `features`.
const WRONG_INPUT = `import json, sys, onnx
from onnx import helper, TensorProto
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])
y = helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 2])
g = helper.make_graph([helper.make_node("Sigmoid", ["x"], ["probability"])], "mevlab_wrong_input", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)], ir_version=8)
helper.set_model_props(m, {"mevlab.feature_names": json.dumps(["f_hotpath_us", "f_route_hops"])})
onnx.save(m, sys.argv[1])`;

// 2,000 synthetic opportunities, with a column the agents do not compute (`net_sol`).
const ARROW = `import sys, numpy as np, pyarrow as pa
from mevlab.train import synthetic
t = synthetic.opportunities(2000, seed=1)
t = t.append_column("net_sol", pa.array(np.random.default_rng(1).normal(size=t.num_rows)))
synthetic.write_arrow(t, sys.argv[1])`;

export interface Fixtures {
  /** An arbitrage model of the default features. */
  arb: TrainedModel;
  /** A mev model of features the mev agents compute. */
  mev: TrainedModel;
  /** A model that reads `net_sol`, which no agent computes ("bring your own" features). */
  byo: TrainedModel;
  /** A valid ONNX file whose input is `x`. */
  wrongInput: Buffer;
}

export async function makeFixtures(): Promise<Fixtures> {
  const tmp = mkdtempSync(join(tmpdir(), "mevlab-model-fixtures-"));
  const arrow = join(tmp, "opps.arrow");
  const wrong = join(tmp, "wrong-input.onnx");
  await Promise.all([run(["-c", ARROW, arrow]), run(["-c", WRONG_INPUT, wrong])]);
  const [arb, mev, byo] = await Promise.all([
    trained(arrow, join(tmp, "arb"), ["--module", "arbitrage"]),
    trained(arrow, join(tmp, "mev"), [
      "--module",
      "mev",
      "--target",
      "cf_would_land",
      "--features",
      "f_tip_ratio_p75,f_hotpath_us,f_competing_bundles",
    ]),
    trained(arrow, join(tmp, "byo"), ["--module", "arbitrage", "--features", "net_sol,f_hotpath_us"]),
  ]);
  return { arb, mev, byo, wrongInput: readFileSync(wrong) };
}
