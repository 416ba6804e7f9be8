// Promotion through a real Kafka broker: `mevlab control-plane` and `mevlab agent` processes; a model
// trained with train() on the simulated market is uploaded and promoted, the agent acks with it loaded;
// then the agent is killed, its model cache removed, and it is started again: it recovers the policy
// from the compacted topic and the model from the store before it handles any opportunity. Then
// notebooks/03-promote.ipynb runs against this stack with a second model handed over as 02 hands it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays, tableToIPC } from "apache-arrow";
import { arbHistory } from "@mevlab/agents";
import { freePort, startKafka, type KafkaBroker } from "@mevlab/cli";
import { ControlPlaneClient, nodeTransport, promote } from "@mevlab/kernel-helpers";
import { train } from "@mevlab/kernel-helpers/train";
import { ControlRequest_State, Stream } from "@mevlab/proto";
import { runNotebookAsync } from "../src/notebook";
import { RealtimeProbe } from "../src/probe";
import { agentCredential, login, startProcess, stopProcess, waitFor } from "../src/stack";

const ADMIN = { username: "admin", password: "admin-password-1" };
const ID = "arbitrage-1";
let kafka: KafkaBroker;
let dataDir: string;
let url: string;
let env: NodeJS.ProcessEnv;
let cp: ChildProcess | undefined;
let agent: ChildProcess | undefined;

async function startAgent(): Promise<void> {
  agent = (
    await startProcess(
      [
        "agent",
        "--module",
        "arbitrage",
        "--agent-id",
        ID,
        "--rate",
        "100",
        "--data-dir",
        dataDir,
        "--control-plane",
        url,
      ],
      env,
      /^agent .* ready/,
      90_000,
    )
  ).child;
}

before(async () => {
  kafka = await startKafka();
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-promote-kafka-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  env = { KAFKA_BROKERS: kafka.brokers, MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}` };
  cp = (
    await startProcess(
      ["control-plane", "--port", String(port), "--data-dir", dataDir],
      env,
      /^control plane listening/,
    )
  ).child;
  agentCredential(dataDir, "arbitrage", ID);
  await startAgent();
});

after(async () => {
  if (agent) await stopProcess(agent);
  if (cp) await stopProcess(cp);
  await kafka?.stop();
});

test("promote through Kafka; a killed agent comes back with the same policy and model before it trades", async () => {
  const client = await ControlPlaneClient.login({ url, ...ADMIN, transport: nodeTransport });
  const probe = new RealtimeProbe(url, await login(url, ADMIN.username, ADMIN.password));
  try {
    const tmp = mkdtempSync(join(tmpdir(), "mevlab-promote-kafka-model-"));
    const arrow = join(tmp, "history.arrow");
    writeFileSync(arrow, tableToIPC(tableFromArrays(arbHistory(20_000, 3)), "file"));
    const [model] = await train(arrow, {
      module: "arbitrage",
      out: join(tmp, "models"),
      progress: "none",
      onLog: () => undefined,
      params: { n_estimators: 30, threads: 1 },
    });
    await waitFor("the agent's heartbeat", async () =>
      (await client.agents()).agents.some((a) => a.agent_id === ID) ? true : undefined,
    );
    const promoted = await promote(client, { module: "arbitrage", model, reason: "through Kafka" });
    assert.equal(ControlRequest_State[promoted.request.state], "applied");
    assert.deepEqual(
      promoted.request.outcomes.map((o) => [o.agentId, o.modelId]),
      [[ID, model.id]],
    );

    const exited = new Promise((r) => agent!.once("exit", r));
    agent!.kill("SIGKILL");
    await exited;
    rmSync(join(dataDir, "agents", `${ID}.models`), { recursive: true, force: true }); // from the store, then
    await probe.subscribe({ streams: [Stream.arb_opportunity] });
    const restartedAt = Date.now();
    await startAgent();
    const fresh = () =>
      probe.events.flatMap((e) =>
        e.payload.case === "arbOpportunity" && Number(e.payload.value.ts) >= restartedAt ? [e.payload.value] : [],
      );
    await waitFor("100 opportunities of the restarted agent", () => (fresh().length >= 100 ? true : undefined), 60_000);
    const models = new Set(fresh().map((o) => o.decisionMeta?.modelId));
    assert.deepEqual([...models], [model.id], "every opportunity since the restart was scored by the promoted model");
    const view = (await client.agents()).agents.find((a) => a.agent_id === ID)!;
    assert.deepEqual([view.policy_version, view.model_id], [String(promoted.version), model.id]);
  } finally {
    await probe.close();
    await client.close();
  }
});

test("notebooks/03-promote.ipynb on Kafka: shadow, comparison, live on the agent, lineage", async (t) => {
  if (!agent || agent.exitCode !== null || agent.signalCode !== null) await startAgent(); // the test before failed
  const tmp = mkdtempSync(join(tmpdir(), "mevlab-promote-kafka-nb-"));
  const arrow = join(tmp, "history.arrow");
  writeFileSync(arrow, tableToIPC(tableFromArrays(arbHistory(20_000, 4)), "file"));
  const [candidate] = await train(arrow, {
    module: "arbitrage",
    out: join(tmp, "models"),
    progress: "none",
    onLog: () => undefined,
    params: { n_estimators: 60, threads: 1 },
  });
  mkdirSync(join(dataDir, "notebooks"), { recursive: true });
  writeFileSync(
    join(dataDir, "notebooks", "02-train-evaluate.json"),
    JSON.stringify({
      module: "arbitrage",
      model: { id: candidate.id, onnxPath: candidate.onnxPath, type: candidate.model },
      policy: { ev_min: 0.0004, tip_ladder: [0.5, 0.7, 0.85, 0.95] },
    }),
  );
  const outputs = await runNotebookAsync("03-promote", {
    MEVLAB_DATA_DIR: dataDir,
    MEVLAB_URL: url,
    MEVLAB_USER: ADMIN.username,
    MEVLAB_PASSWORD: ADMIN.password,
    SHADOW_SECONDS: "8",
  });
  const text = outputs.map((o) => [o.text ?? []].flat().join("")).join("");
  const id = candidate.id.slice(0, 12);
  assert.match(text, /shadow v\d+: arbitrage-1 acked/);
  assert.match(text, /shadow over \d+ opportunities: Brier live [0-9.]+ shadow [0-9.]+/);
  const live = new RegExp(`live v(\\d+): arbitrage-1 runs ${id}`).exec(text);
  assert.ok(live, text);
  assert.match(
    text,
    new RegExp(`now: v${live[1]} \\(shadow_to_live\\) model ${id}, dataset sha256:[0-9a-f]{12}, by admin`),
  );
  t.diagnostic(/shadow over .*/.exec(text)?.[0] ?? "");
});
