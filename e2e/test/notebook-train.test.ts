// notebooks/02-train-evaluate.ipynb headless on the tslab kernel: it slices the embedded store, trains
// xgb and lgbm, evaluates them on the held-out split, compares them with p_land_est and derives a policy;
// then notebooks/03-promote.ipynb takes that model and policy to two agents (processes on the bus link):
// shadow, comparison, live, lineage.
// The store is filled through the control plane's own sink with opportunities drawn by the agents'
// market (seeded), so the features carry the signal the agents' heuristic misses.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { arbOpportunity, initialRuntime, rng } from "@mevlab/agents";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { LocalBus, publishMessages } from "@mevlab/kernel-helpers";
import { TOPICS } from "@mevlab/proto";
import type { ChildProcess } from "node:child_process";
import { runNotebook, runNotebookAsync, type NotebookOutput } from "../src/notebook";
import { agentCredential, startProcess, stopProcess, waitFor } from "../src/stack";

const ROWS = 50_000;
/** Opportunities per slot: about what one agent sees at --rate 200 (docs/simulation.md). */
const PER_SLOT = 20;
const BATCH = 5_000;

let dataDir: string;
let bus: LocalBus;
let cp: ControlPlane;
const agents: ChildProcess[] = [];

async function storedRows(): Promise<number> {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const glob = join(dataDir, "events", "arb_opportunities", "**", "part-*.parquet").replaceAll("'", "''");
    const reader = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${glob}')`);
    return Number(reader.getRows()[0][0]);
  } catch {
    return 0; // no part written yet: the glob matches nothing
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-nb-train-"));
  bus = new LocalBus();
  cp = await startControlPlane({ dataDir, bus, port: 0, sinkFlushMs: 500, log: () => undefined });
  // The last ~85 minutes, 100 ms apart: inside the notebook's default window of 24 hours.
  const t0 = Date.now() - ROWS * 100 - 60_000;
  const r = rng(21);
  const rt = initialRuntime(false);
  for (let start = 0; start < ROWS; start += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, k) => {
      const i = start + k;
      const o = arbOpportunity(r, "arb-nb", 358_000_000n + BigInt(Math.floor(i / PER_SLOT)), i, rt);
      o.ts = BigInt(t0 + i * 100);
      return { key: o.slot.toString(), message: o };
    });
    await publishMessages(bus, TOPICS.arbOpportunities, batch);
  }
  await waitFor(
    `${ROWS} opportunities in the store`,
    async () => ((await cp.sink!.flushed(10_000)) && (await storedRows()) >= ROWS ? true : undefined),
    120_000,
  );
});

after(async () => {
  for (const a of agents) await stopProcess(a);
  await cp?.close();
  await bus?.close();
});

const textOf = (outputs: NotebookOutput[]) =>
  outputs
    .map((o) =>
      [o.text ?? [], o.data?.["text/html"] ?? [], o.data?.["text/plain"] ?? []]
        .map((t) => (Array.isArray(t) ? t.join("") : String(t)))
        .join(""),
    )
    .join("\n");

test("notebooks/02-train-evaluate.ipynb trains xgb and lgbm, beats p_land_est on the held-out split and derives a policy", (t) => {
  const started = Date.now();
  const outputs = runNotebook("02-train-evaluate", {
    MEVLAB_DATA_DIR: dataDir,
    CLICKHOUSE_URL: "",
    CUDA_VISIBLE_DEVICES: "",
  });
  const seconds = (Date.now() - started) / 1000;
  const text = textOf(outputs);
  assert.match(text, /source: local \(.*events\), last 24 h/);
  assert.equal(Number(/arb: (\d+) rows/.exec(text)?.[1]), ROWS, text);

  assert.match(text, /class="mevlab-train-progress"><progress value="1\.0+" max="1"/, "the progress bar, at its end");
  const ids = [...text.matchAll(/model (xgb|lgbm) ([0-9a-f]{64})/g)].map((m) => m[1]);
  assert.deepEqual(ids.sort(), ["lgbm", "xgb"], text);

  const auc = Object.fromEntries(
    [...text.matchAll(/test AUC (xgb|lgbm|p_land_est) ([0-9.]+)/g)].map((m) => [m[1], Number(m[2])]),
  );
  for (const m of ["xgb", "lgbm"]) {
    assert.ok(auc[m] >= auc.p_land_est + 0.03, `${m} AUC ${auc[m]} against p_land_est ${auc.p_land_est}\n${text}`);
  }

  assert.equal([...text.matchAll(/parity (xgb|lgbm): max abs diff \S+ \(ok\)/g)].length, 2, text);

  const ev = /counterfactual EV on the test split: policy ([0-9.-]+) SOL .* heuristic ([0-9.-]+) SOL/.exec(text);
  assert.ok(ev, text);
  assert.ok(Number(ev[1]) > Number(ev[2]), `policy ${ev[1]} SOL against heuristic ${ev[2]} SOL`);
  assert.match(text, /policy: ev_min [0-9.]+ SOL, tip_ladder \[[0-9., ]+\] \(validatePolicy: ok\)/);

  type Figure = { layout?: { title?: { text?: string } } };
  const figures = outputs
    .map((o) => o.data?.["application/vnd.plotly.v1+json"] as Figure | undefined)
    .filter((f): f is Figure => f !== undefined);
  const titles = figures.map((f) => f.layout?.title?.text ?? "").join(" | ");
  assert.equal(figures.length, 3, titles);
  for (const title of [/^ROC/, /Calibration/, /against ev_min/]) assert.match(titles, title);
  t.diagnostic(`notebook ran in ${seconds.toFixed(1)} s; AUC ${JSON.stringify(auc)}; EV ${ev[1]} vs ${ev[2]} SOL`);
});

test("notebooks/03-promote.ipynb deploys 02's model in shadow, compares, makes it live on every agent and reads the lineage", async (t) => {
  await cp.users.add("quant", "quant-password-1", "admin");
  for (const id of ["arbitrage-1", "arbitrage-2"]) {
    agentCredential(dataDir, "arbitrage", id);
    const args = ["agent", "--module", "arbitrage", "--agent-id", id, "--rate", "300", "--data-dir", dataDir];
    agents.push(
      (await startProcess([...args, "--control-plane", cp.url], { KAFKA_BROKERS: "" }, /^agent .* ready/)).child,
    );
  }
  const outputs = await runNotebookAsync("03-promote", {
    MEVLAB_DATA_DIR: dataDir,
    MEVLAB_URL: cp.url,
    MEVLAB_USER: "quant",
    MEVLAB_PASSWORD: "quant-password-1",
    SHADOW_SECONDS: "15",
  });
  const text = textOf(outputs);
  const candidate = /candidate: (xgb|lgbm) ([0-9a-f]{12})/.exec(text);
  assert.ok(candidate, text);
  assert.match(text, /live now: policy v0, model \(the agents' built-in estimate\)/);
  assert.equal([...text.matchAll(/shadow v1: arbitrage-[12] acked/g)].length, 2, text);
  const cmp =
    /shadow over (\d+) opportunities: Brier live ([0-9.]+) shadow ([0-9.]+); hit rate live ([0-9.]+) % shadow ([0-9.]+) %/.exec(
      text,
    );
  assert.ok(cmp, text);
  assert.ok(Number(cmp[1]) > 1_000, `${cmp[1]} opportunities scored by both`);
  assert.ok(Number(cmp[3]) < Number(cmp[2]), `Brier: shadow ${cmp[3]} against the built-in estimate's ${cmp[2]}`);
  assert.equal([...text.matchAll(new RegExp(`live v2: arbitrage-[12] runs ${candidate[2]}`, "g"))].length, 2, text);
  assert.match(text, /before the shadow: v0 \(default\) model built-in/);
  assert.match(
    text,
    new RegExp(
      `now: v2 \\(shadow_to_live\\) model ${candidate[2]}, dataset sha256:[0-9a-f]{12}, by quant: "better calibrated in shadow", acked by arbitrage-[12], arbitrage-[12]`,
    ),
  );
  assert.ok(
    outputs.some((o) => String(o.data?.["text/html"] ?? "").includes('class="mevlab-shadow"')),
    "the comparison table",
  );
  t.diagnostic(cmp[0]);
});
