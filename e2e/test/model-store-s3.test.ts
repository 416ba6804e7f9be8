// The model store backed by S3 (MEVLAB_MODEL_STORE=s3://bucket/prefix) against a real S3-compatible
// server (s3proxy from Maven Central): two control planes with their own data dirs share one bucket, a
// model uploaded to one is listed and served by the other, a model only in a data dir goes to the bucket
// when it is uploaded, and a bucket that refuses leaves nothing behind.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalBus, connect, s3Client, type ControlPlaneClient, type S3Settings } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { startS3Proxy, type S3Server } from "../src/s3proxy";
import { ROOT } from "../src/stack";

const PREFIX = "team/models";
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

interface Plane {
  cp: ControlPlane;
  bus: LocalBus;
  dataDir: string;
  client: ControlPlaneClient;
}

let s3: S3Server;
let settings: S3Settings;
const planes: Plane[] = [];
/** Three arbitrage models the trainer made (5, 6 and 7 rounds): `<dir>/<id>/model.onnx`. */
const models: Array<{ id: string; dir: string; bytes: Buffer }> = [];

function train(arrow: string, rounds: number): void {
  const out = mkdtempSync(join(tmpdir(), "mevlab-s3-models-"));
  const python = join(ROOT, ".venv/bin/python");
  const args = ["-m", "mevlab.train", "--input", arrow, "--module", "arbitrage", "--model", "xgb", "--out", out];
  const r = spawnSync(python, [...args, "--n-estimators", String(rounds)], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const id = readdirSync(out).find((d) => !d.startsWith("."))!;
  models.push({ id, dir: join(out, id), bytes: readFileSync(join(out, id, "model.onnx")) });
}

async function plane(s3Settings: S3Settings): Promise<Plane> {
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-s3-store-"));
  const bus = new LocalBus();
  const cp = await startControlPlane({
    dataDir,
    bus,
    port: 0,
    sink: false,
    logLevel: "silent",
    log: () => undefined,
    modelStore: `s3://models/${PREFIX}`,
    modelStoreS3: s3Settings,
  });
  const client = await connect({ url: cp.url, token: await cp.tokens.issue("admin", "admin", 600) });
  const p = { cp, bus, dataDir, client };
  planes.push(p);
  return p;
}

/** The objects of a model in the bucket (s3proxy keeps each as a file). */
const inBucket = (id: string) =>
  ["model.onnx", "card.json"].filter((f) => {
    const path = join(s3.dir, "models", ...PREFIX.split("/"), id, f);
    return existsSync(path) && statSync(path).isFile();
  });

before(async () => {
  s3 = await startS3Proxy(["models"]);
  settings = { endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  const arrow = join(mkdtempSync(join(tmpdir(), "mevlab-s3-arrow-")), "opps.arrow");
  const mk = `from mevlab.train import synthetic; synthetic.write_arrow(synthetic.opportunities(2000, seed=1), ${JSON.stringify(arrow)})`;
  assert.equal(spawnSync(join(ROOT, ".venv/bin/python"), ["-c", mk], { cwd: ROOT }).status, 0);
  for (const rounds of [5, 6, 7]) train(arrow, rounds);
});

after(async () => {
  for (const p of planes) {
    await p.client.close();
    await p.cp.close();
    await p.bus.close();
  }
  await s3?.stop();
});

test("a model uploaded to one control plane is listed and served by another on the same bucket", async () => {
  const [a, b] = [await plane(settings), await plane(settings)];
  const m = models[0];
  const up = await a.client.uploadModel("arbitrage", { onnxPath: join(m.dir, "model.onnx") });
  assert.equal(up.created, true);
  assert.deepEqual(inBucket(m.id), ["model.onnx", "card.json"]);
  const listed = (await b.client.listModels("arbitrage")).models;
  assert.deepEqual(
    listed.map((x) => [x.id, x.bytes]),
    [[m.id, m.bytes.length]],
  );
  assert.deepEqual(await b.client.modelCard(m.id), up.card);
  assert.equal(sha256(await b.client.modelBytes(m.id)), m.id);
  assert.ok(existsSync(join(b.dataDir, "models", m.id, "model.onnx")), "cached in b's data dir");
  const again = await b.client.uploadModel("arbitrage", { bytes: m.bytes });
  assert.equal(again.created, false);
});

test("a model only in a data dir (a training job's) goes to the bucket when it is uploaded", async () => {
  const [a, b] = [planes[0], planes[1]];
  const m = models[1];
  cpSync(m.dir, join(a.dataDir, "models", m.id), { recursive: true });
  assert.deepEqual(inBucket(m.id), []);
  assert.ok(
    (await a.client.listModels()).models.some((x) => x.id === m.id),
    "listed where it was trained",
  );
  assert.ok(!(await b.client.listModels()).models.some((x) => x.id === m.id), "not yet elsewhere");
  const up = await a.client.uploadModel("arbitrage", { bytes: m.bytes });
  assert.equal(up.created, false, "it was in the store already");
  assert.deepEqual(inBucket(m.id), ["model.onnx", "card.json"]);
  assert.equal(sha256(await b.client.modelBytes(m.id)), m.id);
});

/** An upload's refusal: status, code and message. */
async function refusedUpload(p: Plane, bytes: Buffer): Promise<{ status: number; code: string; message: string }> {
  const res = await fetch(`${p.cp.url}/api/models`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${p.client.token}`,
      "x-requested-with": "mevlab",
      "content-type": "application/json",
    },
    body: JSON.stringify({ module: "arbitrage", onnx_base64: bytes.toString("base64") }),
  });
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

const localModels = (p: Plane) => {
  const dir = join(p.dataDir, "models");
  return existsSync(dir) ? readdirSync(dir) : [];
};

test("a bucket that refuses: 503 model_store_unavailable, and nothing stays behind", async () => {
  const c = await plane({ ...settings, secretAccessKey: "wrong" });
  const denied = await refusedUpload(c, models[2].bytes);
  assert.equal(denied.status, 503, denied.message);
  assert.equal(denied.code, "model_store_unavailable");
  assert.match(denied.message, /s3:\/\/models\/team\/models\//);
  assert.deepEqual(localModels(c), []);
  // A write that fails after the model's file went up (an object in the way of its card.json): the
  // file is removed from the bucket again, and the data dir's copy too.
  const a = planes[0];
  const id = models[2].id;
  const { sdk, client } = s3Client(settings);
  await client.send(new sdk.PutObjectCommand({ Bucket: "models", Key: `${PREFIX}/${id}/card.json/x`, Body: "x" }));
  client.destroy();
  const failed = await refusedUpload(a, models[2].bytes);
  assert.equal(failed.status, 503, failed.message);
  assert.equal(failed.code, "model_store_unavailable");
  assert.deepEqual(inBucket(id), []);
  assert.ok(!localModels(a).includes(id), "the data dir's copy is removed");
  assert.ok(!localModels(a).some((n) => n.startsWith(".partial-")));
});
