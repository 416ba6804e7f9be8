// Failed logins and refused tokens are audited (coalesced per address and minute, so an anonymous
// client cannot fill the disk), and logins are limited per account as well as per address: a guesser
// that spreads its tries over many addresses is stopped after 10 failures for one username.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBus } from "@mevlab/kernel-helpers";
import { UserStore, startControlPlane, type ControlPlane } from "../src";
import { auditPaths, readAuditKey, verifyAudit } from "../src/audit/verify";
import { AccountLimit } from "../src/auth/login-limit";

let cp: ControlPlane;
let bus: LocalBus;
const dataDir = mkdtempSync(join(tmpdir(), "mevlab-login-"));

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({ dataDir, bus, port: 0, log: () => undefined });
  await cp.users.add("admin", "admin-password", "admin");
  await cp.users.add("viewer", "viewer-password", "viewer");
});

after(async () => {
  await cp.close();
  await bus.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request from a loopback address of the caller's choice (127.0.0.0/8 all reach the server). */
function call(from: string, method: string, path: string, opts: { body?: unknown; token?: string } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      `${cp.url}${path}`,
      {
        method,
        localAddress: from,
        headers: {
          ...(opts.body ? { "content-type": "application/json" } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end(opts.body ? JSON.stringify(opts.body) : undefined);
  });
}

const login = (from: string, username: string, password: string) =>
  call(from, "POST", "/api/auth/login", { body: { username, password } });

const records = () =>
  readFileSync(auditPaths(dataDir).file, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, string>);

test("a failed login is audited at once; more from the same address that minute become one summary", async () => {
  assert.equal((await login("127.0.0.2", "admin", "wrong-password")).status, 401);
  const first = records().filter((r) => r.action === "auth.login");
  assert.equal(first.length, 1);
  assert.deepEqual(
    { user: first[0].user, outcome: first[0].outcome, reason: first[0].reason, ip: first[0].ip },
    { user: "admin", outcome: "denied", reason: "wrong username or password", ip: "127.0.0.2" },
  );
  assert.equal((await login("127.0.0.2", "nobody", "wrong-password")).status, 401);
  assert.equal((await login("127.0.0.2", "x".repeat(5000), "wrong-password")).status, 401);
  assert.equal(records().filter((r) => r.action === "auth.login").length, 1, "coalesced, not one record each");
  assert.equal((await login("127.0.0.2", "admin", "admin-password")).status, 200);
});

test("a presented token that is refused is audited; a request with no token is not", async () => {
  const expired = await cp.tokens.issue("admin", "admin", -10);
  assert.equal((await call("127.0.0.3", "GET", "/api/agents", { token: expired })).status, 401);
  assert.equal((await call("127.0.0.4", "GET", "/api/agents", { token: `${expired}x` })).status, 401);
  assert.equal((await call("127.0.0.5", "GET", "/api/agents")).status, 401);
  const refused = records().filter((r) => r.action === "auth.token");
  assert.deepEqual(
    refused.map((r) => `${r.ip} ${r.target}: ${r.reason}`),
    ["127.0.0.3 GET /api/agents: token expired: log in again", "127.0.0.4 GET /api/agents: invalid token"],
  );
});

test("a token refused on a WebSocket upgrade is audited too", async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${cp.url}/api/realtime/ws?token=not-a-jwt`, {
      localAddress: "127.0.0.6",
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal(status, 401);
  const refused = records().filter((r) => r.action === "auth.token" && r.ip === "127.0.0.6");
  assert.deepEqual(
    refused.map((r) => `${r.target}: ${r.reason}`),
    ["GET /api/realtime/ws: invalid token"],
  );
});

test("10 failed logins for one username from many addresses lock it for 15 minutes, with Retry-After", async () => {
  for (let i = 0; i < 10; i++) {
    assert.equal((await login(`127.0.1.${10 + (i % 5)}`, "viewer", `guess-${i}`)).status, 401);
  }
  const locked = await login("127.0.1.99", "viewer", "viewer-password");
  assert.equal(locked.status, 429, "refused even with the right password, from a fresh address");
  const retryAfter = Number(locked.headers["retry-after"]);
  assert.ok(retryAfter > 850 && retryAfter <= 900, `Retry-After ${String(locked.headers["retry-after"])}`);
  assert.equal((await login("127.0.1.99", "admin", "admin-password")).status, 200, "other accounts are not locked");
  assert.ok(records().some((r) => r.action === "auth.login" && r.reason === "too many failed logins for this account"));
});

test("on close the summaries are written, and the whole log verifies under the data dir's key", async () => {
  await cp.close();
  const summary = records().find(
    (r) => r.action === "auth.login" && r.ip === "127.0.0.2" && /more refused/.test(r.reason),
  );
  assert.ok(summary, "the coalesced failures are summarized");
  assert.match(summary.reason, /^2 more refused from 127\.0\.0\.2 in the 60 s after /);
  assert.equal(summary.user, `nobody, ${"x".repeat(64)}…`);
  const report = await verifyAudit({ file: auditPaths(dataDir).file, key: readAuditKey(auditPaths(dataDir).keyFile) });
  assert.deepEqual(report.problems, []);
  cp = await startControlPlane({ dataDir, bus, port: 0, log: () => undefined });
});

test("a users file that does not parse refuses the start and is named", () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-users-")), "users.json");
  writeFileSync(file, '{"users":[{"username":"ad');
  assert.throws(() => new UserStore(file), { message: new RegExp(`^${file}: not valid JSON`) });
});

test("an account's lock ends when its oldest counted failure is 15 minutes old; a success clears it", () => {
  let now = 1_000_000;
  const limit = new AccountLimit({ now: () => now });
  for (let i = 0; i < 10; i++) {
    limit.failed("ops");
    now += 1_000;
  }
  assert.equal(limit.retryAfterMs("ops"), 15 * 60_000 - 10_000);
  now += 15 * 60_000 - 10_000;
  assert.equal(limit.retryAfterMs("ops"), 0);
  limit.failed("ops");
  assert.equal(limit.retryAfterMs("ops"), 1_000, "the window slides: the second failure now counts as the oldest");
  limit.succeeded("ops");
  assert.equal(limit.retryAfterMs("ops"), 0);
  // A 64 KiB "username" is kept as its first 65 characters (no user has a longer name).
  for (let i = 0; i < 10; i++) limit.failed(`${"x".repeat(65)}${i}`.repeat(1000));
  assert.ok(limit.retryAfterMs("x".repeat(65)) > 0);
});
