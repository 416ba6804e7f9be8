// Bad input on the control endpoint gets a 4xx that says what is wrong, and nothing is published.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { LocalBus } from "@mevlab/kernel-helpers";
import { TOPICS } from "@mevlab/proto";
import { startControlPlane, type ControlPlane } from "../src";

let cp: ControlPlane;
let bus: LocalBus;
let published = 0;
let adminToken = "";
let viewerToken = "";
let expiredToken = "";

before(async () => {
  bus = new LocalBus();
  await bus.subscribe({ topics: [TOPICS.controlCommands.name], group: "test-counter" }, async () => {
    published += 1;
  });
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-cp-")),
    bus,
    port: 0,
    log: () => undefined,
  });
  await cp.users.add("admin", "admin-password", "admin");
  await cp.users.add("viewer", "viewer-password", "viewer");
  adminToken = await login("admin", "admin-password");
  viewerToken = await login("viewer", "viewer-password");
  expiredToken = await cp.tokens.issue("admin", "admin", -10);
});

after(async () => {
  await cp.close();
  await bus.close();
});

async function login(username: string, password: string): Promise<string> {
  const res = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Case {
  name: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  token?: () => string;
  status: number;
  message: RegExp;
}

const json = { "Content-Type": "application/json", "X-Requested-With": "mevlab" };

const CASES: Case[] = [
  { name: "unknown module", path: "/api/control/module/solana:stop", status: 404, message: /unknown module 'solana'/ },
  { name: "unknown action", path: "/api/control/module/mev:explode", status: 404, message: /unknown action 'explode'/ },
  {
    name: "no action",
    path: "/api/control/module/mev",
    status: 404,
    message: /expected \/api\/control\/module\/\{name\}:\{action\}/,
  },
  {
    name: "missing X-Requested-With",
    headers: { "Content-Type": "application/json" },
    status: 403,
    message: /X-Requested-With: mevlab/,
  },
  { name: "no token", token: () => "", status: 401, message: /missing Authorization/ },
  { name: "garbage token", token: () => "not-a-jwt", status: 401, message: /invalid token/ },
  { name: "expired token", token: () => expiredToken, status: 401, message: /token expired/ },
  { name: "viewer token", token: () => viewerToken, status: 403, message: /role 'viewer' may not control/ },
  { name: "malformed JSON", body: '{"throttle_pct": 3', status: 400, message: /malformed JSON/ },
  { name: "body not an object", body: "[1,2]", status: 400, message: /body must be a JSON object/ },
  {
    name: "text/plain body",
    body: "stop",
    headers: { "Content-Type": "text/plain", "X-Requested-With": "mevlab" },
    status: 415,
    message: /application\/json/,
  },
  {
    name: "body over 64 KiB",
    body: JSON.stringify({ kill: false, pad: "x".repeat(70_000) }),
    status: 413,
    message: /too large/,
  },
  { name: "unknown field", body: '{"throttle": 3}', status: 400, message: /unknown field 'throttle'/ },
  {
    name: "throttle_pct as string",
    path: "/api/control/module/mev:throttle",
    body: '{"throttle_pct": "30"}',
    status: 400,
    message: /throttle_pct must be an integer 0-100/,
  },
  {
    name: "throttle_pct over 100",
    path: "/api/control/module/mev:throttle",
    body: '{"throttle_pct": 101}',
    status: 400,
    message: /throttle_pct/,
  },
  {
    name: "throttle_pct fractional",
    path: "/api/control/module/mev:throttle",
    body: '{"throttle_pct": 12.5}',
    status: 400,
    message: /throttle_pct/,
  },
  {
    name: "throttle without throttle_pct",
    path: "/api/control/module/mev:throttle",
    body: "{}",
    status: 400,
    message: /throttle needs throttle_pct/,
  },
  {
    name: "ev_min negative",
    path: "/api/control/module/mev:policy",
    body: '{"ev_min": -1}',
    status: 400,
    message: /ev_min must be a finite number >= 0/,
  },
  {
    name: "ev_min huge (Infinity in JSON)",
    path: "/api/control/module/mev:policy",
    body: '{"ev_min": 1e400}',
    status: 400,
    message: /ev_min/,
  },
  {
    name: "tip_ladder unsorted",
    path: "/api/control/module/mev:policy",
    body: '{"tip_ladder": [0.5, 0.4]}',
    status: 400,
    message: /strictly increasing/,
  },
  {
    name: "tip_ladder out of (0,1)",
    path: "/api/control/module/mev:policy",
    body: '{"tip_ladder": [0.5, 1.0]}',
    status: 400,
    message: /tip_ladder\[1\] must be a number inside \(0, 1\)/,
  },
  {
    name: "tip_ladder over 16 rungs",
    path: "/api/control/module/mev:policy",
    body: JSON.stringify({ tip_ladder: Array.from({ length: 17 }, (_, i) => (i + 1) / 20) }),
    status: 400,
    message: /1-16 rungs/,
  },
  {
    name: "kill not boolean",
    path: "/api/control/module/mev:kill",
    body: '{"kill": "yes"}',
    status: 400,
    message: /kill must be true or false/,
  },
];

// Every action × every body field × each malformed value, then the other mutating endpoints.
const ACTIONS = ["start", "stop", "restart", "throttle", "policy", "kill"];
const BAD_VALUES: Record<string, [string, RegExp][]> = {
  throttle_pct: [
    ['"30"', /throttle_pct must be an integer 0-100/],
    ["-1", /throttle_pct/],
    ["101", /throttle_pct/],
    ["1e400", /throttle_pct/],
    ["null", /throttle_pct/],
  ],
  ev_min: [
    ['"0.1"', /ev_min must be a finite number >= 0/],
    ["-0.5", /ev_min/],
    ["1e400", /ev_min/],
    ["-1e400", /ev_min/],
    ["true", /ev_min/],
  ],
  tip_ladder: [
    ["0.5", /tip_ladder must be an array/],
    ["[]", /tip_ladder must have 1-16 rungs/],
    ["[0.7, 0.5]", /strictly increasing/],
    ["[0.5, 0.5]", /strictly increasing/],
    ["[0, 0.5]", /tip_ladder\[0\] must be a number inside \(0, 1\)/],
    ['[0.5, "0.7"]', /tip_ladder\[1\]/],
    ["[0.5, 1e400]", /tip_ladder\[1\]/],
    [JSON.stringify(Array.from({ length: 17 }, (_, i) => (i + 1) / 20)), /1-16 rungs, got 17/],
  ],
  kill: [
    ['"true"', /kill must be true or false/],
    ["1", /kill must be true or false/],
  ],
};
for (const action of ACTIONS) {
  for (const [field, values] of Object.entries(BAD_VALUES)) {
    for (const [value, message] of values) {
      CASES.push({
        name: `${action} with ${field} = ${value.length > 24 ? value.slice(0, 24) + "…" : value}`,
        path: `/api/control/module/mev:${action}`,
        body: `{"${field}": ${value}}`,
        status: 400,
        message,
      });
    }
  }
  CASES.push({
    name: `${action} with NaN (not JSON)`,
    path: `/api/control/module/arbitrage:${action}`,
    body: '{"ev_min": NaN}',
    status: 400,
    message: /malformed JSON/,
  });
  CASES.push({
    name: `${action} with an unknown field`,
    path: `/api/control/module/arbitrage:${action}`,
    body: '{"throttle_pct": 5, "slippage": 1}',
    status: 400,
    message: /unknown field 'slippage'/,
  });
}
const OTHER: Case[] = [
  {
    name: "kill-all as viewer",
    path: "/api/control/kill-all",
    token: () => viewerToken,
    status: 403,
    message: /viewer/,
  },
  {
    name: "kill-all without header",
    path: "/api/control/kill-all",
    headers: { "Content-Type": "application/json" },
    status: 403,
    message: /X-Requested-With/,
  },
  {
    name: "kill-all with an unknown field",
    path: "/api/control/kill-all",
    body: '{"now": true}',
    status: 400,
    message: /unknown field 'now'/,
  },
  {
    name: "bundle retry without bundle_id",
    path: "/api/agents/bundle/retry",
    body: '{"tip_lamports": 140000}',
    status: 400,
    message: /bundle_id must be/,
  },
  {
    name: "bundle retry with float lamports",
    path: "/api/agents/bundle/retry",
    body: '{"bundle_id": "b1", "tip_lamports": 1.5}',
    status: 400,
    message: /tip_lamports must be a positive integer/,
  },
  {
    name: "bundle retry with lamports past u64",
    path: "/api/agents/bundle/retry",
    body: '{"bundle_id": "b1", "tip_lamports": "18446744073709551616"}',
    status: 400,
    message: /tip_lamports/,
  },
  {
    name: "bundle retry with negative lamports",
    path: "/api/agents/bundle/retry",
    body: '{"bundle_id": "b1", "tip_lamports": -5}',
    status: 400,
    message: /tip_lamports/,
  },
  {
    name: "policy update without module",
    path: "/api/policy/update",
    body: '{"ev_min": 0.1}',
    status: 400,
    message: /unknown module undefined/,
  },
  {
    name: "policy update with unknown module",
    path: "/api/policy/update",
    body: '{"module": "jito", "ev_min": 0.1}',
    status: 400,
    message: /unknown module 'jito'/,
  },
  {
    name: "policy update with nothing to change",
    path: "/api/policy/update",
    body: '{"module": "mev"}',
    status: 400,
    message: /nothing to change/,
  },
  {
    name: "policy update with an unsorted ladder",
    path: "/api/policy/update",
    body: '{"module": "mev", "tip_ladder": [0.9, 0.1]}',
    status: 400,
    message: /strictly increasing/,
  },
  {
    name: "policy update as viewer",
    path: "/api/policy/update",
    body: '{"module": "mev", "ev_min": 0.1}',
    token: () => viewerToken,
    status: 403,
    message: /viewer/,
  },
  {
    name: "rollback to a version that does not exist",
    path: "/api/policy/mev/rollback",
    body: '{"version": 99}',
    status: 404,
    message: /no policy version 99/,
  },
  {
    name: "rollback with a fractional version",
    path: "/api/policy/mev/rollback",
    body: '{"version": 1.5}',
    status: 400,
    message: /version must be a non-negative integer/,
  },
  {
    name: "rollback of an unknown module",
    path: "/api/policy/jito/rollback",
    body: '{"version": 0}',
    status: 404,
    message: /unknown module 'jito'/,
  },
];
CASES.push(...OTHER);

// Nesting is refused before parsing, on every route that takes a body: code that walks a parsed
// value recursively overflowed its stack on this and answered 500.
const DEEP = `{"ev_min": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`;
for (const path of [
  "/api/control/module/mev:policy",
  "/api/control/kill-all",
  "/api/agents/bundle/retry",
  "/api/policy/update",
  "/api/policy/mev/rollback",
  "/api/datasets/scrape",
  "/api/datasets/jobs/x/cancel",
  "/api/clickhouse/query",
  "/api/auth/login",
]) {
  CASES.push({
    name: `${path} with a body nested 20,000 deep`,
    path,
    body: DEEP,
    status: 400,
    message: /nested deeper than 32 levels/,
  });
}

for (const c of CASES) {
  test(`control endpoint: ${c.name} → ${c.status}, nothing published`, async () => {
    const before = published;
    const token = c.token ? c.token() : adminToken;
    const headers: Record<string, string> = { ...(c.headers ?? json) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${cp.url}${c.path ?? "/api/control/module/mev:stop"}`, {
      method: "POST",
      headers,
      body: c.body ?? "{}",
    });
    const body = (await res.json()) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(res.status, c.status, JSON.stringify(body));
    assert.equal(body.ok, false);
    assert.match(body.error.message, c.message);
    await new Promise((r) => setImmediate(r));
    assert.equal(published, before, "a refused command must not be published");
  });
}

test("a valid command is accepted (202) and published exactly once", async () => {
  const before = published;
  const res = await fetch(`${cp.url}/api/control/module/mev:throttle`, {
    method: "POST",
    headers: { ...json, Authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ throttle_pct: 30, ev_min: 0.0006, tip_ladder: [0.5, 0.7, 0.85, 0.95], kill: false }),
  });
  assert.equal(res.status, 202);
  const body = (await res.json()) as { ok: boolean; request_id: string };
  assert.equal(body.ok, true);
  assert.match(body.request_id, /^[0-9a-f-]{36}$/);
  await new Promise((r) => setImmediate(r));
  assert.equal(published, before + 1);
});

test("a scrape with an empty DEX filter exports every DEX (202), as the Datasets panel sends it", async () => {
  const res = await fetch(`${cp.url}/api/datasets/scrape`, {
    method: "POST",
    headers: { ...json, Authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ start: "2024-01-01", end: "2024-01-02", types: ["arb"], dex: [], format: "parquet" }),
  });
  const body = (await res.json()) as { ok: boolean; job_id: string; error?: { message: string } };
  assert.equal(res.status, 202, body.error?.message);
  assert.equal(body.ok, true);
});

test("login: wrong password → 401, missing fields → 400", async () => {
  const bad = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "nope" }),
  });
  assert.equal(bad.status, 401);
  const missing = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: "admin" }),
  });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { error: { message: string } }).error.message, /password/);
});

function upgradeStatus(path: string, protocols: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${cp.url.replace("http", "ws")}${path}`, protocols);
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("error", (err) => reject(err));
  });
}

test("every endpoint needs a token: GET /api/agents, the metrics and both WebSockets", async () => {
  assert.equal((await fetch(`${cp.url}/api/agents`)).status, 401);
  assert.equal((await fetch(`${cp.url}/api/metrics/summary`)).status, 401);
  assert.equal((await fetch(`${cp.url}/metrics`)).status, 401);
  assert.equal(
    (await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${expiredToken}` } })).status,
    401,
  );
  const summary = await fetch(`${cp.url}/api/metrics/summary`, { headers: { authorization: `Bearer ${viewerToken}` } });
  assert.equal(summary.status, 200);
  const body = (await summary.json()) as Record<string, unknown>;
  for (const k of ["hotpath_p50", "hotpath_p99", "send_p50", "send_p99", "landed_pct", "pnl_1h", "events_per_s"]) {
    assert.equal(typeof body[k], "number", k);
  }
  const prom = await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${viewerToken}` } });
  assert.match(prom.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  assert.match(await prom.text(), /^process_resident_memory_bytes \d+$/m);
  assert.equal(await upgradeStatus("/api/realtime/ws", ["mevlab.v1"]), 401);
  assert.equal(await upgradeStatus("/api/bus/ws", ["mevlab.link.v1"]), 401);
  assert.equal(await upgradeStatus("/api/realtime/ws", ["mevlab.v1", `bearer.${expiredToken}`]), 401);
  assert.equal(await upgradeStatus("/api/bus/ws", ["mevlab.link.v1", `bearer.${viewerToken}`]), 403);
  assert.equal(await upgradeStatus("/api/realtime/ws", ["mevlab.v1", `bearer.${viewerToken}`]), 101);
});
