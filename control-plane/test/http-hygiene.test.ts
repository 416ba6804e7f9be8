// What every HTTP answer and every request leaves behind: security headers on each response (there
// were none), one structured log line per request with its id and no secret in it (the service
// logged nothing, though a 500 said "the log has the details"), and clients that send a request too
// slowly are cut off (200 connections trickling a body were still held after 145 s).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalBus } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";
import { createApp } from "../src/app";

const ORIGIN = "http://127.0.0.1:8888";
const PASSWORD = "admin-password-1";
const REQUEST_TIMEOUT_MS = 1_000;
const HEADERS_TIMEOUT_MS = 500;
let bus: LocalBus;
let cp: ControlPlane;
const logLines: string[] = [];
const logged = (): Record<string, unknown>[] => logLines.map((l) => JSON.parse(l) as Record<string, unknown>);

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-http-hygiene-")),
    bus,
    port: 0,
    sink: false,
    corsOrigins: [ORIGIN],
    bootstrapAdmin: `admin:${PASSWORD}`,
    httpRequestTimeoutMs: REQUEST_TIMEOUT_MS,
    httpHeadersTimeoutMs: HEADERS_TIMEOUT_MS,
    logStream: { write: (line) => void logLines.push(line) },
    log: () => undefined,
  });
});

after(async () => {
  await cp.close();
  await bus.close();
});

async function login(): Promise<string> {
  const res = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN },
    body: JSON.stringify({ username: "admin", password: PASSWORD }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}

test("every answer carries the security headers, and CORS still lets JupyterLab's origin in", async () => {
  const token = await login();
  const answers = [
    await fetch(`${cp.url}/api/agents`, { headers: { authorization: `Bearer ${token}`, origin: ORIGIN } }),
    await fetch(`${cp.url}/api/agents`),
    await fetch(`${cp.url}/no/such/route`),
  ];
  assert.deepEqual(
    answers.map((r) => r.status),
    [200, 401, 404],
  );
  for (const res of answers) {
    assert.equal(res.headers.get("content-security-policy"), "default-src 'none';frame-ancestors 'none'", res.url);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", res.url);
    assert.equal(res.headers.get("x-frame-options"), "SAMEORIGIN", res.url);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", res.url);
    assert.equal(res.headers.get("strict-transport-security"), null, res.url);
  }
  assert.equal(answers[0].headers.get("access-control-allow-origin"), ORIGIN);
  const preflight = await fetch(`${cp.url}/api/control/kill`, {
    method: "OPTIONS",
    headers: {
      origin: ORIGIN,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,x-requested-with",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), ORIGIN);
});

test("one log line per request, with its id, user and status; no password, token or Authorization in the log", async () => {
  logLines.length = 0;
  const token = await login();
  await fetch(`${cp.url}/api/agents`, { headers: { authorization: `Bearer ${token}` } });
  await fetch(`${cp.url}/api/agents?token=${token}&x=1`);
  await fetch(`${cp.url}/nowhere`);
  const lines = logged();
  const requests = lines.filter((l) => l.msg === "request");
  assert.equal(requests.length, 4, logLines.join(""));
  assert.equal(lines.length, 4, "nothing else for these requests");
  assert.deepEqual(
    requests.map((l) => [l.method, l.status, l.user ?? null]),
    [
      ["POST", 200, null],
      ["GET", 200, "admin"],
      ["GET", 401, null],
      ["GET", 404, null],
    ],
  );
  assert.equal(requests[2].url, "/api/agents?token=[redacted]&x=1");
  assert.equal(new Set(requests.map((l) => l.reqId)).size, 4, "a request id each");
  for (const l of requests) {
    assert.equal(l.level, 30, "info");
    assert.equal(typeof l.ms, "number");
    assert.match(String(l.time), /^\d{4}-\d\d-\d\dT/);
  }
  const text = logLines.join("");
  assert.ok(!text.includes(PASSWORD), "no password");
  assert.ok(!text.includes(token), "no token");
  assert.ok(!text.toLowerCase().includes("bearer"), "no Authorization header");
});

test("a 500 names its request id, and the log has the error with its stack at level error", async () => {
  const lines: string[] = [];
  const app = createApp({
    logLevel: "info",
    logStream: { write: (l) => void lines.push(l) },
    httpRequestTimeoutMs: 30_000,
    httpHeadersTimeoutMs: 10_000,
    httpIdleTimeoutMs: 60_000,
  });
  app.get("/boom", async () => {
    throw new Error("kaput in a handler");
  });
  const res = await app.inject({ method: "GET", url: "/boom?token=SECRET" });
  await app.close();
  assert.equal(res.statusCode, 500);
  const body = res.json<{ error: { code: string; message: string } }>();
  const error = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 50);
  assert.ok(error, lines.join(""));
  assert.ok(body.error.message.includes(`(request ${String(error.reqId)})`), body.error.message);
  assert.match(String((error.err as { stack: string }).stack), /kaput in a handler\n\s+at /);
  assert.ok(!lines.join("").includes("SECRET"));
});

/** Opens a raw connection, writes `head`, then one byte of `drip` every 100 ms; resolves when the server closes it. */
function trickle(head: string, drip: string): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    let answer = "";
    let timer: NodeJS.Timeout;
    const socket = connect(cp.port, "127.0.0.1", () => {
      socket.write(head);
      timer = setInterval(() => socket.write(drip), 100);
    });
    socket.on("data", (d) => (answer += d.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ ms: Date.now() - started, answer });
    });
    // Held 5 s: what it measures is past any bound the test allows.
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

test("clients that send a body or headers too slowly are cut off within the timeouts", async () => {
  const body = trickle(
    "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
    "a",
  );
  const headers = trickle("GET /api/agents HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n");
  const many = Array.from({ length: 20 }, () =>
    trickle("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", " "),
  );
  const [b, h, ...rest] = await Promise.all([body, headers, ...many]);
  assert.ok(b.ms < REQUEST_TIMEOUT_MS + 1_500, `a slow body was held ${b.ms} ms`);
  assert.match(b.answer, /^HTTP\/1\.1 408/);
  assert.ok(h.ms < HEADERS_TIMEOUT_MS + 1_500, `slow headers were held ${h.ms} ms`);
  assert.match(h.answer, /^HTTP\/1\.1 408/);
  assert.ok(Math.max(...rest.map((r) => r.ms)) < REQUEST_TIMEOUT_MS + 1_500, "20 slow bodies at once: all cut off");
  const ok = await fetch(`${cp.url}/api/agents`);
  assert.equal(ok.status, 401, "and the server still answers");
});
