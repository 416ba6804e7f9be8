// The OpenAPI document is generated from the route schemas: it must be valid OpenAPI and name every
// route of Fastify's table with its method, so a route added without a schema cannot go unnoticed.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { LocalBus } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";

let cp: ControlPlane;
let bus: LocalBus;
const tokens: Record<string, string> = {};

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-openapi-")),
    bus,
    port: 0,
    sink: false,
    log: () => undefined,
  });
  for (const role of ["admin", "viewer", "agent"] as const) tokens[role] = await cp.tokens.issue(role, role, 600);
});

after(async () => {
  await cp.close();
  await bus.close();
});

async function documentAs(role: string): Promise<{ status: number; doc: Record<string, unknown> }> {
  const headers: Record<string, string> = tokens[role] ? { authorization: `Bearer ${tokens[role]}` } : {};
  const res = await fetch(`${cp.url}/api/openapi.json`, { headers });
  return { status: res.status, doc: (await res.json()) as Record<string, unknown> };
}

test("GET /api/openapi.json: admin and viewer tokens; no token 401, an agent's 403", async () => {
  assert.equal((await documentAs("admin")).status, 200);
  assert.equal((await documentAs("viewer")).status, 200);
  assert.equal((await documentAs("none")).status, 401);
  assert.equal((await documentAs("agent")).status, 403);
});

test("the document is valid OpenAPI 3", async () => {
  const { doc } = await documentAs("viewer");
  assert.match(String(doc.openapi), /^3\./);
  await SwaggerParser.validate(structuredClone(doc) as never);
});

test("every route of Fastify's table is in the document with its method", async () => {
  const { doc } = await documentAs("admin");
  const paths = doc.paths as Record<string, Record<string, unknown>>;
  const gets = new Set(cp.routes.filter((r) => r.method === "GET").map((r) => r.url));
  const routes = cp.routes.filter(
    // Fastify's HEAD twin of each GET, and @fastify/cors' preflight catch-all, are not API routes.
    (r) => !(r.method === "HEAD" && gets.has(r.url)) && !(r.method === "OPTIONS" && r.url === "*"),
  );
  assert.ok(routes.length >= 18, `${routes.length} routes`);
  const missing = routes.filter((r) => {
    const path = r.url.replace(/:(\w+)/g, "{$1}");
    return paths[path]?.[r.method.toLowerCase()] === undefined;
  });
  assert.deepEqual(missing, [], "routes missing from the OpenAPI document");
});

test("the WebSocket endpoints, outside the router, are listed in x-websockets", async () => {
  const { doc } = await documentAs("viewer");
  const sockets = (doc["x-websockets"] as Array<{ path: string }>).map((s) => s.path);
  assert.deepEqual(sockets, ["/api/realtime/ws", "/api/bus/ws"]);
});

test("the model store: the upload answers 201 or 200, a model's bytes are application/octet-stream with X-Mevlab-Sha256", async () => {
  const { doc } = await documentAs("viewer");
  type Op = { responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> };
  const paths = doc.paths as Record<string, Record<string, Op>>;
  const upload = paths["/api/models"].post.responses;
  assert.ok(upload["200"] && upload["201"], "200 and 201");
  const bytes = paths["/api/models/{id}/model.onnx"].get.responses["200"];
  assert.deepEqual(Object.keys(bytes.content ?? {}), ["application/octet-stream"]);
  assert.ok(bytes.headers?.["x-mevlab-sha256"], "the X-Mevlab-Sha256 header");
});
