// train(): the real trainer (`.venv`'s Python, `scripts/setup.sh --train`) on an Arrow table, with
// progress, cancellation and the trainer's error codes. CUDA_VISIBLE_DEVICES="" as in the trainer's tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Bool, Uint32, Uint64, makeVector, tableFromArrays, vectorFromArray, type Table } from "apache-arrow";
import { TrainError, train, type TrainProgress } from "../src/train";

const ENV = { CUDA_VISIBLE_DEVICES: "" };
const FAST = { n_estimators: 40, threads: 1, seed: 1 };

/** The arbitrage module's default features and a label that depends on them (seeded, with noise). */
function opportunities(rows: number, seed = 7): Table {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const cols = { ts: [] as bigint[], tip: [] as number[], hot: [] as number[], comp: [] as number[] };
  const more = { liq: [] as bigint[], hops: [] as number[], leader: [] as number[], land: [] as boolean[] };
  let ts = 1_767_225_600_000n;
  for (let i = 0; i < rows; i++) {
    ts += BigInt(Math.floor(rnd() * 400));
    const tip = Math.exp((rnd() - 0.5) * 2);
    const hot = 200 + rnd() * 600;
    const comp = Math.floor(rnd() * 7);
    const liq = 1e11 + rnd() * 9e11;
    const hops = 2 + Math.floor(rnd() * 3);
    const leader = Math.floor(rnd() * 4);
    const logit =
      1.8 * Math.log(tip) - 0.002 * (hot - 400) - 0.35 * (comp - 3) - 0.25 * (hops - 2) - 0.6 * +(leader === 0);
    cols.ts.push(ts);
    cols.tip.push(tip);
    cols.hot.push(hot);
    cols.comp.push(comp);
    more.liq.push(BigInt(Math.floor(liq)));
    more.hops.push(hops);
    more.leader.push(leader);
    more.land.push(rnd() < 1 / (1 + Math.exp(-(logit + (rnd() - 0.5)))));
  }
  return tableFromArrays({
    ts_ms: makeVector({ type: new Uint64(), data: BigUint64Array.from(cols.ts) }),
    f_tip_ratio_p75: Float64Array.from(cols.tip),
    f_hotpath_us: Float64Array.from(cols.hot),
    f_competing_bundles: makeVector({ type: new Uint32(), data: Uint32Array.from(cols.comp) }),
    f_pool_liquidity_lamports: makeVector({ type: new Uint64(), data: BigUint64Array.from(more.liq) }),
    f_route_hops: makeVector({ type: new Uint32(), data: Uint32Array.from(more.hops) }),
    f_leader_slot_index: makeVector({ type: new Uint32(), data: Uint32Array.from(more.leader) }),
    cf_would_land: vectorFromArray(more.land, new Bool()),
  } as never) as unknown as Table;
}

const outDir = () => mkdtempSync(join(tmpdir(), "mevlab-train-test-"));
const models = (out: string) => readdirSync(out).filter((n) => !n.startsWith("."));

test("xgb and lgbm from an Arrow table: one handle per model, ONNX and card on disk, progress seen", async () => {
  const out = outDir();
  const seen: TrainProgress[] = [];
  const logs: string[] = [];
  const stream = new PassThrough();
  let printed = "";
  stream.on("data", (b: Buffer) => (printed += b.toString()));
  try {
    const handles = await train(opportunities(3000), {
      module: "arbitrage",
      model: ["xgb", "lgbm"],
      params: FAST,
      out,
      env: ENV,
      onProgress: (p) => seen.push(p),
      onLog: (l) => logs.push(l),
      progress: { mode: "lines", stream, linesEveryMs: 0 },
    });
    assert.deepEqual(
      handles.map((h) => h.model),
      ["xgb", "lgbm"],
    );
    for (const h of handles) {
      assert.match(h.id, /^[0-9a-f]{64}$/);
      assert.equal(h.dir, join(out, h.id));
      assert.ok(existsSync(h.onnxPath), h.onnxPath);
      assert.equal(h.card.id, h.id);
      assert.equal(h.card.model, h.model);
      assert.ok((h.card.metrics.test.auc ?? 0) > 0.6, `test AUC ${h.card.metrics.test.auc}`);
    }
    assert.deepEqual(models(out).sort(), handles.map((h) => h.id).sort());
    const its = seen.filter((p) => p.phase === "train" && p.iteration > 0);
    assert.ok(its.length >= 10, `iteration progress: ${its.length}`);
    assert.ok(its.some((p) => p.model === "lgbm"));
    assert.ok(
      seen.every((p, i) => i === 0 || p.fraction >= seen[i - 1].fraction),
      "the fraction never goes back",
    );
    assert.equal(seen[seen.length - 1].fraction, 1);
    assert.match(printed, /xgb 1\/2 train {2}\[#*·*\] +\d+% {2}it \d+\/40/);
    assert.match(printed, /done: xgb [0-9a-f]{12}, lgbm [0-9a-f]{12}/);
    assert.ok(logs.length > 0, "the trainer's logs reached onLog");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("one small torch run", async () => {
  const out = outDir();
  try {
    const [h] = await train(opportunities(1500), {
      module: "arbitrage",
      model: "torch",
      params: { epochs: 3, threads: 1, seed: 1 },
      out,
      env: ENV,
      progress: "none",
    });
    assert.equal(h.model, "torch");
    assert.equal(h.card.iterations, 3);
    assert.ok(existsSync(h.onnxPath));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("an AbortSignal midway: TrainError cancelled, exit 143, no model directory", async () => {
  const out = outDir();
  const abort = new AbortController();
  try {
    const err = await train(opportunities(20000), {
      module: "arbitrage",
      model: "xgb",
      params: { n_estimators: 5000, early_stopping_rounds: 0, threads: 1 },
      out,
      env: ENV,
      signal: abort.signal,
      progress: "none",
      onProgress: (p) => {
        if (p.iteration === 5) abort.abort();
      },
    }).then(
      () => assert.fail("train() resolved after abort"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TrainError, String(err));
    assert.equal(err.code, "cancelled");
    assert.equal(err.exitCode, 143);
    assert.deepEqual(readdirSync(out), [], "no model, no staging directory");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("bad input: the trainer's code in a TrainError, nothing written", async () => {
  const out = outDir();
  try {
    const noTarget = opportunities(500).select(["ts_ms", "f_tip_ratio_p75", "f_hotpath_us"]);
    const cases: Array<[Parameters<typeof train>[1], string, Table]> = [
      [{ module: "arbitrage" }, "missing_target", noTarget],
      [{ module: "arbitrage", model: "svm" as never }, "unknown_model", opportunities(500)],
      [{ module: "arbitrage", params: { max_depth: "deep" } }, "bad_params", opportunities(500)],
    ];
    for (const [opts, code, table] of cases) {
      const err = await train(table, { ...opts, out, env: ENV, progress: "none" }).then(
        () => assert.fail(`${code}: train() resolved`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof TrainError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.exitCode, 2);
    }
    const missing = await train(join(out, "nowhere.arrow"), {
      module: "arbitrage",
      out,
      env: ENV,
      progress: "none",
    }).catch((e: unknown) => e);
    assert.ok(missing instanceof TrainError && missing.code === "input_not_found", String(missing));
    assert.deepEqual(readdirSync(out), []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("a Python that does not exist: TrainError spawn_failed", async () => {
  const err = await train(opportunities(100), { python: "/nonexistent/python", progress: "none" }).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof TrainError, String(err));
  assert.equal(err.code, "spawn_failed");
});

test("in a tslab notebook the bar is one display entry rewritten in place", async () => {
  const out = outDir();
  const html: string[] = [];
  try {
    await train(opportunities(2000), {
      module: "arbitrage",
      model: "lgbm",
      params: FAST,
      out,
      env: ENV,
      progress: { mode: "tslab", display: { html: (s) => html.push(s) } },
    });
    assert.ok(html.length > 5, `${html.length} updates`);
    assert.match(html[1], /<progress value="0\.\d+" max="1"/);
    assert.match(html[html.length - 1], /<progress value="1\.0000".*done: lgbm [0-9a-f]{12}/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
