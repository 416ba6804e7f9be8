// Training jobs of the control plane: POST /api/training/start slices the store, runs the trainer
// (`.venv`, scripts/setup.sh --train) as a job pushed on the WS job stream, and publishes models under
// <data dir>/models; viewers read but cannot start; cancel; bad bodies are 400 naming the field.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { ControlPlaneClient, LocalBus, nodeTransport } from "@mevlab/kernel-helpers";
import { Stream } from "@mevlab/proto";
import { RealtimeProbe } from "../src/probe";
import { login, waitFor } from "../src/stack";
import { writeSyntheticArbStore } from "../src/synthetic";

const T0 = Date.parse("2026-11-20T00:00:00Z");
// The synthetic store has no f_* columns: the job trains on columns it has, with `landed` as the target.
const BODY = {
  module: "arbitrage",
  range: { from: "2026-11-20T00:00:00Z", to: "2026-11-20T04:00:00Z" },
  features: ["hops", "tip_lamports", "p_land_est", "tip_quantile"],
  target: "landed",
  model: "xgb",
  gpu: false,
  params: { max_depth: 3, learning_rate: 0.3, n_estimators: 20, threads: 1 },
};

describe("training jobs", { timeout: 600_000 }, () => {
  let dataDir: string;
  let bus: LocalBus;
  let cp: ControlPlane;
  let admin = "";
  let viewer = "";
  const prevCuda = process.env.CUDA_VISIBLE_DEVICES;

  const call = async (method: "GET" | "POST", path: string, body?: unknown, token = admin) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "X-Requested-With": "mevlab" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${cp.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    process.env.CUDA_VISIBLE_DEVICES = "";
    dataDir = mkdtempSync(join(tmpdir(), "mevlab-training-"));
    await writeSyntheticArbStore(join(dataDir, "events"), 20_000, T0, 4);
    bus = new LocalBus();
    cp = await startControlPlane({ dataDir, bus, port: 0, sink: false, log: () => undefined });
    await cp.users.add("admin", "admin-password", "admin");
    await cp.users.add("viewer", "viewer-password", "viewer");
    admin = await login(cp.url, "admin", "admin-password");
    viewer = await login(cp.url, "viewer", "viewer-password");
  });
  after(async () => {
    await cp?.close();
    await bus?.close();
    if (prevCuda === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
    else process.env.CUDA_VISIBLE_DEVICES = prevCuda;
  });

  it("a training job runs to done on the WS job stream; its status names the models on disk", async () => {
    const probe = new RealtimeProbe(cp.url, admin);
    try {
      await probe.subscribe({ streams: [Stream.job] });
      const client = await ControlPlaneClient.login({
        url: cp.url,
        username: "admin",
        password: "admin-password",
        transport: nodeTransport,
      });
      const res = await client.startTraining(BODY as never);
      const id = res.job_id;
      assert.equal(res.job.kind, "training");
      const job = await client.waitForTraining(id, { timeoutMs: 300_000 });
      assert.equal(job.state, "succeeded", `${job.error} ${job.log_tail?.join("\n")}`);
      assert.equal(job.model_ids?.length, 1);
      const modelDir = join(dataDir, "models", job.model_ids![0]);
      assert.ok(existsSync(join(modelDir, "model.onnx")) && existsSync(join(modelDir, "card.json")));
      assert.ok(job.metrics && (job.metrics as { valid?: unknown }).valid, "current metrics shown");
      await waitFor(
        "the job's states and progress on the WS",
        () =>
          probe.events.some(
            (e) => e.payload.case === "job" && e.payload.value.id === id && e.payload.value.state === "succeeded",
          ),
        10_000,
      );
      const running = probe.events.filter(
        (e) => e.payload.case === "job" && e.payload.value.id === id && e.payload.value.state === "running",
      );
      assert.ok(running.length > 0, "running snapshots pushed");
      const viewerStatus = await call("GET", `/api/training/status/${id}`, undefined, viewer);
      assert.equal(viewerStatus.status, 200);
      assert.deepEqual(viewerStatus.json.model_ids, job.model_ids);
      const list = await call("GET", "/api/training/jobs", undefined, viewer);
      assert.ok((list.json.jobs as Array<{ id: string }>).some((j) => j.id === id));
    } finally {
      await probe.close();
    }
  });

  it("a viewer cannot start a job (403); bad bodies are 400 naming the field", async () => {
    const forbidden = await call("POST", "/api/training/start", BODY, viewer);
    assert.equal(forbidden.status, 403);
    const bad: Array<[unknown, RegExp]> = [
      [{ ...BODY, colour: "red" }, /colour/],
      [{ ...BODY, model: "svm" }, /model/],
      [{ ...BODY, params: { depth: 3 } }, /depth/],
      [{ ...BODY, range: { from: "2026-11-20T04:00:00Z", to: "2026-11-20T00:00:00Z" } }, /range\.from/],
      [{ ...BODY, module: undefined }, /module/],
    ];
    for (const [body, field] of bad) {
      const res = await call("POST", "/api/training/start", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match((res.json.error as { message: string }).message, field, JSON.stringify(body));
    }
  });

  it("cancel stops a running job: cancelled, no new model directory", async () => {
    const before = readdirSync(join(dataDir, "models")).filter((n) => !n.startsWith("."));
    const body = { ...BODY, params: { ...BODY.params, n_estimators: 100_000, early_stopping_rounds: 0 } };
    const res = await call("POST", "/api/training/start", body);
    const id = res.json.job_id as string;
    await waitFor(
      "the job iterating",
      async () => Number((await call("GET", `/api/training/status/${id}`)).json.iteration ?? 0) > 0,
      120_000,
    );
    assert.equal((await call("POST", `/api/training/${id}/cancel`, {}, viewer)).status, 403);
    assert.equal((await call("POST", `/api/training/${id}/cancel`, {})).status, 202);
    const job = await waitFor(
      "cancelled",
      async () => {
        const j = (await call("GET", `/api/training/status/${id}`)).json;
        return ["succeeded", "failed", "cancelled"].includes(j.state as string) ? j : undefined;
      },
      60_000,
    );
    assert.equal(job.state, "cancelled");
    assert.equal(job.error_code, "cancelled");
    assert.deepEqual(
      readdirSync(join(dataDir, "models")).filter((n) => !n.startsWith(".")),
      before,
    );
  });
});
