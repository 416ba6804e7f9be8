// Sessions (issue 20): a login gives a 15-minute access token and a refresh token that rotates at
// each use; a refresh token used twice revokes its whole session (audited); logout revokes the
// session; a revocation takes effect at once on REST and on open WebSockets, and survives a restart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  call,
  closedWithin,
  login,
  openRealtime,
  readStatus,
  refresh,
  start,
  type Started,
  type Tokens,
} from "./auth-helpers";

let s: Started;

before(async () => {
  s = await start();
  await s.cp.users.add("admin", "admin-password", "admin");
  await s.cp.users.add("viewer", "viewer-password", "viewer");
});

after(() => s.stop());

const auditLines = (): Record<string, unknown>[] =>
  readFileSync(join(s.dataDir, "audit", "audit.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test("login answers a 15-minute access token and a refresh token, stored only as a hash", async () => {
  const t = await login(s.cp, "viewer", "viewer-password");
  assert.equal(t.expires_in, 900);
  assert.equal(t.refresh_expires_in, 7 * 24 * 3600);
  assert.match(t.refresh_token, /^mvr1\./);
  assert.equal(await readStatus(s.cp, t.access_token), 200);
  const stored = readFileSync(join(s.dataDir, "auth", "sessions.json"), "utf8");
  assert.ok(!stored.includes(t.refresh_token.split(".")[2]), "the refresh token's secret is on disk");
});

test("refresh rotates: new access and refresh tokens, and the old refresh token is spent", async () => {
  const first = await login(s.cp, "viewer", "viewer-password");
  const res = await refresh(s.cp, first.refresh_token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const second = res.body as unknown as Tokens;
  assert.notEqual(second.refresh_token, first.refresh_token);
  assert.notEqual(second.access_token, first.access_token);
  assert.equal(await readStatus(s.cp, second.access_token), 200);
  // The next one works too: a session lasts as long as it is refreshed.
  const third = await refresh(s.cp, second.refresh_token);
  assert.equal(third.status, 200);
  assert.equal(await readStatus(s.cp, (third.body as unknown as Tokens).access_token), 200);
  const junk = await refresh(s.cp, "mvr1.nosuchsession.secret");
  assert.equal(junk.status, 401);
});

test("a refresh token used twice revokes the whole session, at once on REST and on its WebSocket; audited", async () => {
  const first = await login(s.cp, "admin", "admin-password");
  const second = (await refresh(s.cp, first.refresh_token)).body as unknown as Tokens;
  const socket = await openRealtime(s.cp, second.access_token);
  const other = await login(s.cp, "admin", "admin-password");
  const sent = Date.now();
  const reuse = await refresh(s.cp, first.refresh_token);
  assert.equal(reuse.status, 401);
  assert.match(JSON.stringify(reuse.body), /already used: the session is revoked/);
  const closed = await closedWithin(socket, 1_000);
  assert.ok(closed, "the session's WebSocket is still open 1 s after the reuse");
  assert.equal(closed.code, 4003);
  assert.ok(closed.at - sent < 1_000, `closed after ${closed.at - sent} ms`);
  // Every token of the session: the access tokens issued before, and the refresh token of the thief.
  assert.equal(await readStatus(s.cp, first.access_token), 401);
  assert.equal(await readStatus(s.cp, second.access_token), 401);
  assert.equal((await refresh(s.cp, second.refresh_token)).status, 401);
  // Another session of the same user is not touched.
  assert.equal(await readStatus(s.cp, other.access_token), 200);
  const record = auditLines().find((r) => r.action === "auth.refresh" && r.user === "admin");
  assert.ok(record, "no audit record of the reuse");
  assert.equal(record.outcome, "denied");
  assert.match(String(record.reason), /already used/);
});

test("logout: the session's tokens are refused at once, its WebSocket closed within 1 s", async () => {
  const t = await login(s.cp, "viewer", "viewer-password");
  const socket = await openRealtime(s.cp, t.access_token);
  const sent = Date.now();
  const res = await call(s.cp, "POST", "/api/auth/logout", { token: t.access_token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(await readStatus(s.cp, t.access_token), 401);
  const closed = await closedWithin(socket, 1_000);
  assert.ok(closed, "the WebSocket is still open 1 s after logout");
  assert.equal(closed.code, 4003);
  assert.ok(closed.at - sent < 1_000, `closed after ${closed.at - sent} ms`);
  assert.equal((await refresh(s.cp, t.refresh_token)).status, 401);
  // A new socket with the logged-out token is refused at the upgrade.
  await assert.rejects(openRealtime(s.cp, t.access_token), /upgrade refused: 401/);
  assert.ok(auditLines().some((r) => r.action === "auth.logout" && r.user === "viewer" && r.outcome === "accepted"));
});

test("logout needs the header of a mutation and a token", async () => {
  assert.equal((await call(s.cp, "POST", "/api/auth/logout")).status, 401);
  const t = await login(s.cp, "viewer", "viewer-password");
  const res = await fetch(`${s.cp.url}/api/auth/logout`, {
    method: "POST",
    headers: { authorization: `Bearer ${t.access_token}` },
  });
  assert.equal(res.status, 403);
  assert.equal(await readStatus(s.cp, t.access_token), 200);
});

test("GET /api/auth/me names the token's user, role and kind", async () => {
  const t = await login(s.cp, "viewer", "viewer-password");
  const me = await call(s.cp, "GET", "/api/auth/me", { token: t.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.body.user, "viewer");
  assert.equal(me.body.role, "viewer");
  assert.equal(me.body.kind, "session");
});

test("revocations and live sessions survive a restart", async () => {
  const revoked = await login(s.cp, "viewer", "viewer-password");
  const live = await login(s.cp, "viewer", "viewer-password");
  assert.equal((await call(s.cp, "POST", "/api/auth/logout", { token: revoked.access_token })).status, 200);
  await s.stop();
  s = await start({}, s.dataDir);
  assert.equal(await readStatus(s.cp, revoked.access_token), 401);
  assert.equal((await refresh(s.cp, revoked.refresh_token)).status, 401);
  assert.equal(await readStatus(s.cp, live.access_token), 200);
  assert.equal((await refresh(s.cp, live.refresh_token)).status, 200);
});
