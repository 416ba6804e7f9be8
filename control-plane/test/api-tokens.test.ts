// Named API tokens for notebooks (issue 20): a user creates one for themself, of their role or
// below, shown once; lists their own; revokes one, which is refused at once on REST and has its
// WebSocket closed. The client library takes one in place of a login (MEVLAB_API_TOKEN).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ControlPlaneClient, ResponseError, connect, nodeTransport } from "@mevlab/kernel-helpers";
import { call, closedWithin, login, openRealtime, readStatus, start, type Started } from "./auth-helpers";

let s: Started;
let admin = "";
let viewer = "";

before(async () => {
  s = await start();
  await s.cp.users.add("admin", "admin-password", "admin");
  await s.cp.users.add("viewer", "viewer-password", "viewer");
  admin = (await login(s.cp, "admin", "admin-password")).access_token;
  viewer = (await login(s.cp, "viewer", "viewer-password")).access_token;
});

after(() => s.stop());

const create = (token: string, body: unknown) => call(s.cp, "POST", "/api/auth/tokens", { token, body });
const list = async (token: string) =>
  (await call(s.cp, "GET", "/api/auth/tokens", { token })).body.tokens as Array<Record<string, unknown>>;

test("create: the token once, of the caller's role by default; the list names it without the token", async () => {
  const res = await create(viewer, { name: "research notebook" });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const token = res.body.token as string;
  const record = res.body.api_token as Record<string, unknown>;
  assert.equal(record.role, "viewer");
  assert.equal(record.name, "research notebook");
  const days = (Date.parse(String(record.expires_at)) - Date.now()) / 86_400_000;
  assert.ok(days > 89.9 && days <= 90, `expires in ${days} days`);
  assert.equal(await readStatus(s.cp, token), 200);
  const mine = await list(viewer);
  assert.deepEqual(
    mine.map((t) => t.name),
    ["research notebook"],
  );
  assert.ok(!JSON.stringify(mine).includes(token), "the list shows the token");
  assert.ok(mine[0].last_used_at, "last use not noted");
  // Each user sees only their own.
  assert.deepEqual(await list(admin), []);
  const me = await call(s.cp, "GET", "/api/auth/me", { token });
  assert.equal(me.body.kind, "api");
});

test("a role above the caller's, a second token from an API token, bad fields: refused", async () => {
  assert.equal((await create(viewer, { name: "up", role: "admin" })).status, 403);
  const adminMade = await create(admin, { name: "read only", role: "viewer", expires_in_days: 1 });
  assert.equal(adminMade.status, 201);
  const apiToken = adminMade.body.token as string;
  // A viewer token may read and not act, whoever made it.
  const kill = await call(s.cp, "POST", "/api/control/kill-all", { token: apiToken, body: {} });
  assert.equal(kill.status, 403);
  assert.equal((await create(apiToken, { name: "child" })).status, 403);
  assert.equal((await create(admin, { name: "read only" })).status, 409);
  assert.equal((await create(admin, { name: "x", expires_in_days: 366 })).status, 400);
  assert.equal((await create(admin, { name: "" })).status, 400);
  assert.equal((await create(admin, { name: "x", token: "mine" })).status, 400);
});

test("revoke: refused at once on REST, its WebSocket closed within 1 s; only your own", async () => {
  const made = await create(viewer, { name: "to revoke" });
  const token = made.body.token as string;
  const id = (made.body.api_token as { id: string }).id;
  const socket = await openRealtime(s.cp, token);
  assert.equal((await call(s.cp, "DELETE", `/api/auth/tokens/${id}`, { token: admin })).status, 404);
  assert.equal(await readStatus(s.cp, token), 200);
  const sent = Date.now();
  const res = await call(s.cp, "DELETE", `/api/auth/tokens/${id}`, { token: viewer });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(await readStatus(s.cp, token), 401);
  const closed = await closedWithin(socket, 1_000);
  assert.ok(closed, "the API token's WebSocket is still open 1 s after the revocation");
  assert.equal(closed.code, 4003);
  assert.ok(closed.at - sent < 1_000);
  assert.ok(!(await list(viewer)).some((t) => t.id === id));
  assert.equal((await call(s.cp, "DELETE", `/api/auth/tokens/${id}`, { token: viewer })).status, 404);
});

test("the client: connect() with an API token, create, list and revoke from a logged-in client", async () => {
  const client = await ControlPlaneClient.login({
    url: s.cp.url,
    username: "viewer",
    password: "viewer-password",
    transport: nodeTransport,
  });
  const created = await client.createApiToken({ name: "from the client", expires_in_days: 7 });
  const notebook = await connect({ url: s.cp.url, token: created.token });
  assert.equal(notebook.role, "viewer");
  assert.equal((await notebook.me()).kind, "api");
  assert.ok((await notebook.agents()).agents);
  assert.ok((await client.apiTokens()).tokens.some((t) => t.name === "from the client"));
  await client.revokeApiToken(created.api_token.id);
  await assert.rejects(notebook.agents(), (err: unknown) => err instanceof ResponseError && err.status === 401);
  await notebook.close();
  await client.close();
});

test("a restart keeps API tokens, and keeps revoked ones refused", async () => {
  const kept = (await create(viewer, { name: "kept" })).body.token as string;
  const gone = await create(viewer, { name: "gone" });
  await call(s.cp, "DELETE", `/api/auth/tokens/${(gone.body.api_token as { id: string }).id}`, { token: viewer });
  await s.stop();
  s = await start({}, s.dataDir);
  assert.equal(await readStatus(s.cp, kept), 200);
  assert.equal(await readStatus(s.cp, gone.body.token as string), 401);
});
