// The model store (issue 22): models the trainer really trained, uploaded through the client library
// and read back by sha256; who may upload and download (an agent only its own module's models); and
// each refusal (too large, not ONNX, not the contract, features the agents do not compute) a 4xx that
// says what is wrong, with nothing left behind in the store.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ResponseError, connect, type ControlPlaneClient } from "@mevlab/kernel-helpers";
import type { ModelHandle } from "@mevlab/kernel-helpers/train";
import { start, type Started } from "./auth-helpers";
import { makeFixtures, type Fixtures } from "./model-fixtures";

const MAX_BYTES = 100_000;
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

let s: Started;
let f: Fixtures;
let admin: ControlPlaneClient;
const tokens: Record<string, string> = {};
let modelsDir: string;

before(async () => {
  f = await makeFixtures();
  s = await start({ modelMaxBytes: MAX_BYTES });
  modelsDir = join(s.dataDir, "models");
  tokens.admin = await s.cp.tokens.issue("admin", "admin", 600);
  tokens.viewer = await s.cp.tokens.issue("viewer", "viewer", 600);
  tokens.arbAgent = await s.cp.tokens.issue("arbitrage-1", "agent", 600, { module: "arbitrage" });
  tokens.mevAgent = await s.cp.tokens.issue("mev-1", "agent", 600, { module: "mev" });
  tokens.noModuleAgent = await s.cp.tokens.issue("stray-1", "agent", 600);
  admin = await connect({ url: s.cp.url, token: tokens.admin });
  // The mev model as a training job publishes it: straight into <data dir>/models/<id>/.
  cpSync(f.mev.dir, join(modelsDir, f.mev.id), { recursive: true });
});

after(async () => {
  await admin?.close();
  await s?.stop();
});

async function call(
  method: string,
  path: string,
  who: string | undefined,
  body?: unknown,
): Promise<{ status: number; code?: string; message?: string; json: Record<string, unknown>; res: Response }> {
  const headers: Record<string, string> = { "x-requested-with": "mevlab" };
  if (who) headers.authorization = `Bearer ${tokens[who]}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${s.cp.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const type = res.headers.get("content-type") ?? "";
  const json = type.includes("json") ? ((await res.clone().json()) as Record<string, unknown>) : {};
  const error = json.error as { code?: string; message?: string } | undefined;
  return { status: res.status, code: error?.code, message: error?.message, json, res };
}

const upload = (who: string | undefined, bytes: Uint8Array, module = "arbitrage", card?: object) =>
  call("POST", "/api/models", who, {
    module,
    onnx_base64: Buffer.from(bytes).toString("base64"),
    ...(card ? { card } : {}),
  });

/** What the models directory holds besides the models the test put there. */
const entries = () => readdirSync(modelsDir).sort();

/** A refused upload: the status, code and message, and nothing new in the store (no `.partial-*` either). */
async function refused(
  send: () => Promise<Awaited<ReturnType<typeof call>>>,
  status: number,
  code: string,
  message: RegExp,
): Promise<void> {
  const before = entries();
  const res = await send();
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.code, code);
  assert.match(res.message ?? "", message);
  assert.deepEqual(entries(), before, "the refused upload left something in the store");
}

test("upload, list, card and bytes: the id is the sha256 of the bytes served", async () => {
  const up = await admin.uploadModel("arbitrage", { onnxPath: f.arb.onnxPath });
  assert.equal(up.id, sha256(f.arb.bytes));
  assert.equal(up.id, f.arb.id, "the trainer's id");
  assert.equal(up.card.module, "arbitrage");
  assert.deepEqual(up.card.features, JSON.parse(readFileSync(join(f.arb.dir, "card.json"), "utf8")).features);
  assert.ok(up.card.metrics?.test, "the card beside model.onnx went with it");
  const listed = (await admin.listModels()).models.find((m) => m.id === up.id);
  assert.ok(listed, "listed");
  assert.equal(listed.bytes, f.arb.bytes.length);
  assert.equal(listed.module, "arbitrage");
  assert.deepEqual(await admin.modelCard(up.id), up.card);
  assert.equal(sha256(await admin.modelBytes(up.id)), up.id);
  const raw = await call("GET", `/api/models/${up.id}/model.onnx`, "viewer");
  assert.equal(raw.status, 200);
  assert.equal(raw.res.headers.get("content-type"), "application/octet-stream");
  assert.equal(raw.res.headers.get("x-mevlab-sha256"), up.id);
  assert.deepEqual(Buffer.from(await raw.res.arrayBuffer()), f.arb.bytes);
});

test("the same bytes twice: 200 and the card stored first; for another module 409", async () => {
  const card = JSON.parse(readFileSync(join(f.arb.dir, "card.json"), "utf8")) as ModelHandle["card"];
  const handle: ModelHandle = {
    id: f.arb.id,
    model: "xgb",
    onnxPath: f.arb.onnxPath,
    dir: f.arb.dir,
    card,
    existing: false,
  };
  await admin.uploadModel("arbitrage", handle);
  const again = await upload("admin", f.arb.bytes, "arbitrage", { note: "second upload" });
  assert.equal(again.status, 200, JSON.stringify(again.json));
  assert.equal(again.json.created, false);
  assert.equal((again.json.card as Record<string, unknown>).note, undefined, "the first card stays");
  const twice = await admin.uploadModel("arbitrage", { bytes: f.arb.bytes });
  assert.equal(twice.created, false);
  await refused(() => upload("admin", f.arb.bytes, "mev"), 409, "conflict", /stored for module arbitrage, not mev/);
});

test("a model a training job publishes into <data dir>/models is in the store at once", async () => {
  const mev = (await admin.listModels("mev")).models;
  assert.deepEqual(
    mev.map((m) => m.id),
    [f.mev.id],
  );
  assert.ok((await admin.listModels("arbitrage")).models.every((m) => m.module === "arbitrage"));
  assert.equal(sha256(await admin.modelBytes(f.mev.id)), f.mev.id);
});

describe("who may", () => {
  before(async () => void (await admin.uploadModel("arbitrage", { bytes: f.arb.bytes })));

  test("upload: admin only (anonymous 401, viewer and agents 403)", async () => {
    for (const [who, status] of [
      [undefined, 401],
      ["viewer", 403],
      ["arbAgent", 403],
    ] as const) {
      await refused(() => upload(who, f.byo.bytes), status, status === 401 ? "unauthenticated" : "forbidden", /./);
    }
  });

  test("an agent fetches its own module's model bytes, and nothing else", async () => {
    const own = await call("GET", `/api/models/${f.arb.id}/model.onnx`, "arbAgent");
    assert.equal(own.status, 200);
    assert.equal(sha256(Buffer.from(await own.res.arrayBuffer())), f.arb.id);
    assert.equal((await call("GET", `/api/models/${f.mev.id}/model.onnx`, "mevAgent")).status, 200);
    const other = await call("GET", `/api/models/${f.mev.id}/model.onnx`, "arbAgent");
    assert.equal(other.status, 403);
    assert.match(other.message ?? "", /is for module mev; agent arbitrage-1 runs arbitrage/);
    assert.equal((await call("GET", `/api/models/${f.arb.id}/model.onnx`, "noModuleAgent")).status, 403);
    for (const path of ["/api/models", `/api/models/${f.arb.id}`]) {
      assert.equal((await call("GET", path, "arbAgent")).status, 403, path);
    }
    const audit = readFileSync(join(s.dataDir, "audit", "audit.jsonl"), "utf8");
    assert.match(audit, /"user":"arbitrage-1".*"outcome":"denied".*is for module mev/);
  });
});

describe("refusals", () => {
  test("too large: 413 model_too_large, told from the body's size before it is read whole", async () => {
    const big = Buffer.alloc(MAX_BYTES + 1, 7);
    await refused(() => upload("admin", big), 413, "model_too_large", /at most 100000 bytes.*100001 bytes/);
    const huge = Buffer.alloc(4 * MAX_BYTES + 2 * 1024 * 1024, 7);
    await refused(() => upload("admin", huge), 413, "model_too_large", /MEVLAB_MODEL_MAX_BYTES/);
    // No token: refused before the body is read at all.
    await refused(() => upload(undefined, huge), 401, "unauthenticated", /./);
  });

  test("not ONNX (a truncated model): 422 bad_model with onnxruntime's reason", async () => {
    const truncated = f.arb.bytes.subarray(0, f.arb.bytes.length / 2);
    await refused(() => upload("admin", truncated), 422, "bad_model", /^onnxruntime could not load it: .*protobuf/);
    await refused(
      () => call("POST", "/api/models", "admin", { module: "mev", onnx_base64: "a?b=" }),
      400,
      "bad_request",
      /not base64/,
    );
  });

  test("a valid ONNX whose input is not 'features': 422 model_contract", async () => {
    await refused(
      () => upload("admin", f.wrongInput),
      422,
      "model_contract",
      /wants exactly one input 'features', has 'x' float32 \[N, 2\]/,
    );
  });

  test("features the module's agents do not compute: 422 features_mismatch naming them", async () => {
    await refused(() => upload("admin", f.byo.bytes), 422, "features_mismatch", /agents do not compute net_sol \(/);
    await refused(() => upload("admin", f.mev.bytes.subarray(0), "arbitrage"), 409, "conflict", /module mev/);
    // The arbitrage model reads f_route_hops, which the mev agents do not compute.
    const fresh = await start({ modelMaxBytes: MAX_BYTES });
    try {
      const res = await fetch(`${fresh.cp.url}/api/models`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${await fresh.cp.tokens.issue("admin", "admin", 600)}`,
          "x-requested-with": "mevlab",
          "content-type": "application/json",
        },
        body: JSON.stringify({ module: "mev", onnx_base64: f.arb.bytes.toString("base64") }),
      });
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 422);
      assert.equal(body.error.code, "features_mismatch");
      assert.match(body.error.message, /the mev agents do not compute f_route_hops/);
      const dir = join(fresh.dataDir, "models");
      assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
    } finally {
      await fresh.stop();
    }
  });

  test("a card that says another id or module: 422 card_mismatch; a card field of the wrong type: 400", async () => {
    await refused(
      () => upload("admin", f.byo.bytes, "arbitrage", { id: "0".repeat(64) }),
      422,
      "card_mismatch",
      /card\.id/,
    );
    await refused(() => upload("admin", f.wrongInput, "arbitrage", { created_at: 5 }), 400, "bad_request", /card/);
  });
});

test("MEVLAB_MODEL_STORE that is not s3://bucket/prefix stops the start", async () => {
  await assert.rejects(start({ modelStore: "models/team" }), /MEVLAB_MODEL_STORE must be s3:\/\/bucket\/prefix/);
});

test("unknown id: 404 unknown_model; an id that is not 64 hex characters: 400", async () => {
  for (const suffix of ["", "/model.onnx"]) {
    const unknown = await call("GET", `/api/models/${"ab".repeat(32)}${suffix}`, "viewer");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.code, "unknown_model");
    const bad = await call("GET", `/api/models/ABC${suffix}`, "viewer");
    assert.equal(bad.status, 400);
    assert.match(bad.message ?? "", /64 lowercase hex characters/);
  }
  await assert.rejects(
    admin.modelCard("ab".repeat(32)),
    (e: unknown) => e instanceof ResponseError && e.status === 404,
  );
});

test("bytes that no longer hash to their id are served as stored (the agent's check finds them)", async () => {
  const id = "cd".repeat(32);
  mkdirSync(join(modelsDir, id));
  writeFileSync(join(modelsDir, id, "model.onnx"), "not the bytes of this id");
  const card = { kind: "mevlab.model", card_version: 1, id, model: "xgb", module: "arbitrage", features: [] };
  writeFileSync(
    join(modelsDir, id, "card.json"),
    JSON.stringify({ ...card, params: null, dataset: null, metrics: null }),
  );
  const res = await call("GET", `/api/models/${id}/model.onnx`, "arbAgent");
  assert.equal(res.status, 200);
  assert.equal(res.res.headers.get("x-mevlab-sha256"), id);
  const bytes = Buffer.from(await res.res.arrayBuffer());
  assert.equal(bytes.toString(), "not the bytes of this id");
  assert.notEqual(sha256(bytes), id);
});
