// The client library stays logged in past its access token (issue 20): it refreshes before the
// token expires, so its REST calls and its realtime WebSocket (which the control plane keeps open
// while the session is refreshed) carry on; a socket of a session nobody refreshes is closed when its
// token expires. Access tokens live 3 s here instead of 15 minutes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
import { closedWithin, login, openRealtime, start, type Started } from "./auth-helpers";

const TTL_S = 3;
let s: Started;

before(async () => {
  s = await start({ accessTtlSeconds: TTL_S });
  await s.cp.users.add("viewer", "viewer-password", "viewer");
});

after(() => s.stop());

test("a logged-in client refreshes on its own: REST and its realtime socket outlive three access tokens", async () => {
  const client = await ControlPlaneClient.login({
    url: s.cp.url,
    username: "viewer",
    password: "viewer-password",
    transport: nodeTransport,
  });
  const first = client.token;
  const live = await client.realtime();
  let closed: number | undefined;
  live.onClose((code) => (closed = code));
  await new Promise((r) => setTimeout(r, 3 * TTL_S * 1000));
  assert.notEqual(client.token, first, "the client never refreshed");
  assert.equal(closed, undefined, `the realtime socket closed (${closed})`);
  assert.ok((await client.agents()).agents);
  await client.logout();
  assert.equal(
    (await fetch(`${s.cp.url}/api/agents`, { headers: { authorization: `Bearer ${client.token}` } })).status,
    401,
  );
});

test("a socket whose session is not refreshed is closed (4001) when its token expires", async () => {
  const t = await login(s.cp, "viewer", "viewer-password");
  const socket = await openRealtime(s.cp, t.access_token);
  const closed = await closedWithin(socket, (TTL_S + 2) * 1000);
  assert.ok(closed, "still open after the token expired");
  assert.equal(closed.code, 4001);
});

test("after a 401 the client refreshes once and retries", async () => {
  const client = await ControlPlaneClient.login({
    url: s.cp.url,
    username: "viewer",
    password: "viewer-password",
    transport: nodeTransport,
  });
  // The access token is denied (as if it had leaked and been revoked alone); the session lives on.
  const principal = await s.cp.tokens.verify(client.token);
  s.cp.sessions.deny(principal.jti!, principal.exp);
  assert.ok((await client.agents()).agents);
  await client.close();
});
