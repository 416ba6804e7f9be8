// The research loop on the simulated market: the trainer's model, evaluated in TypeScript on the
// held-out split, beats the agents' p_land_est on AUC and on the counterfactual SOL it would realise.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { compare, derivePolicy, evaluate } from "@mevlab/kernel-helpers/evaluate";
import { arbHistory } from "../src";

const ROWS = 60_000;
const root = join(__dirname, "../../..");

const market = (rows: number) => tableFromArrays(arbHistory(rows));

test("on the simulated market, the trained model beats p_land_est on the held-out split", async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "mevlab-market-"));
  const table = market(ROWS);
  const arrow = join(tmp, "arb.arrow");
  writeFileSync(arrow, tableToIPC(table, "file"));
  const out = join(tmp, "models");
  const args = ["-m", "mevlab.train", "--input", arrow, "--module", "arbitrage", "--model", "xgb", "--out", out];
  const run = spawnSync(join(root, ".venv/bin/python"), [...args, "--param", "threads=1"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, CUDA_VISIBLE_DEVICES: "" },
  });
  assert.equal(run.status, 0, run.stderr);
  const onnx = join(
    out,
    readdirSync(out).find((d) => !d.startsWith("."))!,
    "model.onnx",
  );

  const ev = await evaluate(onnx, table, { split: "test" });
  const c = compare(ev.heuristic!, ev);
  const policy = derivePolicy(await evaluate(onnx, table, { split: "valid" }));
  t.diagnostic(JSON.stringify({ heuristic: c.a, model: c.b, policy: { ...policy, expected: undefined } }));
  assert.equal(ev.model.scores.rows, ROWS * 0.15);
  assert.ok(c.delta.auc >= 0.03, `AUC: model ${c.b.auc}, heuristic ${c.a.auc}`);
  assert.ok(c.delta.logLoss <= -0.03, `log loss: model ${c.b.logLoss}, heuristic ${c.a.logLoss}`);
  assert.ok(
    c.delta.realisedSol! > 0,
    `realised SOL at ev_min 0.0005: model ${c.b.realisedSol}, heuristic ${c.a.realisedSol}`,
  );
  assert.ok(c.b.bestEv!.realisedSol > c.a.bestEv!.realisedSol, "and at each one's best ev_min");
  assert.ok(policy.ev_min >= 0 && policy.tip_ladder.length === 4);
});
