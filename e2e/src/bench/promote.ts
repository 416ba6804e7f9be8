// Promotion of a 1,000-tree model to agents that trade on: the control plane in this process, the
// agents as processes of their own on the bus link (as `mevlab up` runs them). Two 1,000-tree XGBoost
// models trained with train() on the simulated market are promoted in turn; each promotion is timed
// from the POST to every agent's ack with the model loaded and warm. The agents report each
// opportunity's single-row scoring time and the longest delay of their opportunity ticks, during the
// swaps and, as the baseline, while nothing is promoted.
// `npm run bench:promote -- --json [--promotions 10] [--agents 2] [--rate 300] [--trees 1000]`
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { arbHistory } from "@mevlab/agents";
import { startControlPlane } from "@mevlab/control-plane";
import { ControlPlaneClient, LocalBus, nodeTransport } from "@mevlab/kernel-helpers";
import { train } from "@mevlab/kernel-helpers/train";
import { ControlRequest_State } from "@mevlab/proto";
import { agentCredential, login, percentile, waitFor } from "../stack";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const PROMOTIONS = arg("promotions", 10);
const AGENTS = arg("agents", 2);
const RATE = arg("rate", 300);
const TREES = arg("trees", 1000);
const BASELINE_MS = 10_000;
const JSON_OUT = process.argv.includes("--json");

interface Taken {
  scoreUs: number[];
  scoreWarmUs: number[];
  maxLateMs: number;
  modelId: string;
}

function startAgent(url: string, dataDir: string, id: string): Promise<ChildProcess> {
  const child = fork(
    join(__dirname, "promote-agent.js"),
    ["--module", "arbitrage", "--agent-id", id, "--control-plane", url, "--data-dir", dataDir, "--rate", String(RATE)],
    { stdio: ["ignore", "ignore", "inherit", "ipc"], env: { ...process.env, MEVLAB_LOG_LEVEL: "warn" } },
  );
  return new Promise((resolve, reject) => {
    child.once("message", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`agent ${id} exited (${code})`)));
  });
}

function take(child: ChildProcess): Promise<Taken> {
  return new Promise((resolve) => {
    child.once("message", (m: Taken) => resolve(m));
    child.send({ type: "take" });
  });
}

const takeAll = (children: ChildProcess[]) => Promise.all(children.map(take));
const pct = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? 0, n: s.length };
};

async function models(dir: string) {
  const arrow = join(dir, "history.arrow");
  writeFileSync(arrow, tableToIPC(tableFromArrays(arbHistory(60_000, 9)), "file"));
  const handles = [];
  for (const seed of [1, 2]) {
    const [m] = await train(arrow, {
      module: "arbitrage",
      out: join(dir, "models"),
      progress: "none",
      onLog: () => undefined,
      params: { n_estimators: TREES, early_stopping_rounds: 0, max_depth: 6, seed, subsample: 0.8 },
    });
    handles.push(m);
  }
  return handles;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-bench-promote-"));
  const bus = new LocalBus();
  const cp = await startControlPlane({ dataDir, bus, port: 0, sink: false, log: () => undefined });
  await cp.users.add("admin", "admin-password", "admin");
  const children: ChildProcess[] = [];
  try {
    const ids = Array.from({ length: AGENTS }, (_, i) => `arbitrage-${i + 1}`);
    for (const id of ids) agentCredential(dataDir, "arbitrage", id);
    for (const id of ids) children.push(await startAgent(cp.url, dataDir, id));
    const client = await ControlPlaneClient.login({
      url: cp.url,
      username: "admin",
      password: "admin-password",
      transport: nodeTransport,
    });
    const token = await login(cp.url, "admin", "admin-password");
    await waitFor("agents", async () => ((await client.agents()).agents.length >= AGENTS ? true : undefined), 30_000);
    const [a, b] = await models(mkdtempSync(join(tmpdir(), "mevlab-bench-models-")));
    for (const m of [a, b]) await client.uploadModel("arbitrage", m);
    await client.realtime();

    const promote = async (modelId: string, i: number) => {
      const t0 = performance.now();
      const res = await fetch(`${cp.url}/api/policy/promote`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "X-Requested-With": "mevlab" },
        body: JSON.stringify({ module: "arbitrage", model_id: modelId, reason: `bench ${i}` }),
      });
      const body = (await res.json()) as { request_id: string };
      if (res.status !== 202) throw new Error(`promote answered ${res.status}: ${JSON.stringify(body)}`);
      const request = await client.waitForRequest(body.request_id, 120_000);
      const ms = performance.now() - t0;
      if (request.state !== ControlRequest_State.applied || request.outcomes.some((o) => o.modelId !== modelId)) {
        throw new Error(`promotion ${i}: ${ControlRequest_State[request.state]} ${JSON.stringify(request.outcomes)}`);
      }
      return ms;
    };

    // The first promotion loads a model into agents that had none: warm-up, not measured.
    await promote(a.id, 0);
    await new Promise((r) => setTimeout(r, 2_000));
    await takeAll(children);
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const baseline = await takeAll(children);
    const promoteMs: number[] = [];
    const during: Taken[] = [];
    for (let i = 1; i <= PROMOTIONS; i++) {
      promoteMs.push(await promote(i % 2 ? b.id : a.id, i));
      await new Promise((r) => setTimeout(r, 1_000)); // the old model's thread ends after the swap
      during.push(...(await takeAll(children)));
    }
    const score = pct(during.flatMap((t) => t.scoreUs));
    const result = {
      agents: AGENTS,
      rate_per_agent: RATE,
      trees: TREES,
      promotions: PROMOTIONS,
      model_bytes: { a: a.card?.onnx, b: b.card?.onnx },
      promote_all_acked_ms: pct(promoteMs),
      score_us: score,
      // Each tick's batch after its first row: the first follows ~100 ms of idleness (cold caches).
      score_warm_us: pct(during.flatMap((t) => t.scoreWarmUs)),
      swap_max_pause_ms: Math.max(...during.map((t) => t.maxLateMs)),
      baseline_max_pause_ms: Math.max(...baseline.map((t) => t.maxLateMs)),
      baseline_score_us: pct(baseline.flatMap((t) => t.scoreUs)),
    };
    process.stdout.write((JSON_OUT ? JSON.stringify(result) : JSON.stringify(result, null, 2)) + "\n");
    await client.close();
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await cp.close();
    await bus.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
