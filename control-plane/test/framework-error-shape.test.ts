// Refusals that Fastify's router makes before any route runs (a path parameter over its length
// limit, a malformed percent-encoding) answer in the API's error shape, as the OpenAPI document
// says every 4xx does. Schemathesis found Fastify's own body ({statusCode, code, error, message}).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalBus } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";

let bus: LocalBus;
let cp: ControlPlane;
let admin: string;

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-framework-errors-")),
    bus,
    port: 0,
    sink: false,
    logLevel: "silent",
    log: () => undefined,
  });
  admin = await cp.tokens.issue("admin", "admin", 600);
});

after(async () => {
  await cp.close();
  await bus.close();
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(cp.url + path, { headers: { authorization: `Bearer ${admin}` } });
  return { status: res.status, body: await res.json() };
}

test("a path parameter longer than the router's limit: 414 in the API's error shape", async () => {
  const { status, body } = await get(`/api/control/requests/${"x".repeat(500)}`);
  assert.equal(status, 414);
  assert.deepEqual(Object.keys(body as object), ["ok", "error"]);
  assert.equal((body as { error: { code: string } }).error.code, "max_param_length");
});

test("a malformed percent-encoding in a path parameter: 400 in the API's error shape", async () => {
  const { status, body } = await get("/api/policy/%E0%A4%A");
  assert.equal(status, 400);
  assert.deepEqual(body, {
    ok: false,
    error: { code: "bad_url", message: "'/api/policy/%E0%A4%A' is not a valid url component" },
  });
});
