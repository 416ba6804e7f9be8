// `mevlab user` against a running control plane (issue 20): the command edits the users file from
// another process, and within a second the control plane refuses the user's tokens on REST and
// closes their open WebSocket: disable (and enable), remove, passwd; list shows them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalBus, REALTIME_PROTOCOL, nodeTransport } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";

const CLI = join(__dirname, "..", "src", "main.js");
const dataDir = mkdtempSync(join(tmpdir(), "mevlab-user-cli-"));
let bus: LocalBus;
let cp: ControlPlane;

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({ dataDir, bus, port: 0, sink: false, logLevel: "silent", log: () => undefined });
  await cp.users.add("admin", "admin-password", "admin");
});

after(async () => {
  await cp.close();
  await bus.close();
});

/** Runs `mevlab user ...` as its own process; resolves when it has exited, with its output. */
function mevlabUser(args: string[], password?: string): Promise<{ code: number; out: string; exitedAt: number }> {
  const env = { ...process.env, MEVLAB_PASSWORD: password ?? "" };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "user", ...args, "--data-dir", dataDir], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr, exitedAt: Date.now() });
    });
  });
}

async function login(username: string, password: string): Promise<{ status: number; token: string; refresh: string }> {
  const res = await fetch(`${cp.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json()) as { access_token?: string; refresh_token?: string };
  return { status: res.status, token: body.access_token ?? "", refresh: body.refresh_token ?? "" };
}

const readStatus = async (token: string): Promise<number> =>
  (await fetch(`${cp.url}/api/agents`, { headers: { authorization: `Bearer ${token}` } })).status;

const refreshStatus = async (refresh: string): Promise<number> =>
  (
    await fetch(`${cp.url}/api/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refresh }),
    })
  ).status;

/** An open realtime socket and when it closed. */
function openSocket(token: string): Promise<{ closed: Promise<{ code: number; at: number }> }> {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${cp.port}/api/realtime/ws`;
    const ws = nodeTransport.webSocket(url, [REALTIME_PROTOCOL, `bearer.${token}`]);
    const closed = new Promise<{ code: number; at: number }>((done) => {
      ws.onclose = (ev) => done({ code: ev.code, at: Date.now() });
    });
    ws.onopen = () => resolve({ closed });
    ws.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
}

/** A user logged in with a socket open; the command; then both cut within a second of its exit. */
async function cutWithinASecond(user: string, password: string, command: string[], newPassword?: string) {
  const session = await login(user, password);
  assert.equal(session.status, 200);
  const { closed } = await openSocket(session.token);
  assert.equal(await readStatus(session.token), 200);
  const run = await mevlabUser(command, newPassword);
  assert.equal(run.code, 0, run.out);
  const rest = await readStatus(session.token);
  const socket = await Promise.race([closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_000))]);
  assert.equal(rest, 401, `REST still answers the token after \`mevlab user ${command[0]}\``);
  assert.ok(socket, `the WebSocket is open 1 s after \`mevlab user ${command[0]}\` exited`);
  assert.equal(socket.code, 4003);
  assert.ok(socket.at - run.exitedAt < 1_000, `closed ${socket.at - run.exitedAt} ms after the command`);
  assert.equal(await refreshStatus(session.refresh), 401);
  return run;
}

test("add and list", async () => {
  assert.equal((await mevlabUser(["add", "viewer", "--role", "viewer"], "viewer-password")).code, 0);
  assert.equal((await mevlabUser(["add", "bob"], "bob-password")).code, 0);
  const list = await mevlabUser(["list"]);
  assert.equal(list.code, 0, list.out);
  assert.match(list.out, /^admin +admin +\S+ +enabled$/m);
  assert.match(list.out, /^bob +viewer +\S+ +enabled$/m);
  assert.equal((await login("viewer", "viewer-password")).status, 200);
});

test("disable cuts the user's REST and WebSocket within 1 s; login refused until enabled", async () => {
  await cutWithinASecond("viewer", "viewer-password", ["disable", "viewer"]);
  assert.equal((await login("viewer", "viewer-password")).status, 401);
  assert.match((await mevlabUser(["list"])).out, /^viewer +viewer +\S+ +disabled$/m);
  assert.equal((await mevlabUser(["enable", "viewer"])).code, 0);
  assert.equal((await login("viewer", "viewer-password")).status, 200);
});

test("passwd cuts the tokens issued before; the new password logs in, the old does not", async () => {
  await cutWithinASecond("viewer", "viewer-password", ["passwd", "viewer"], "new-viewer-password");
  assert.equal((await login("viewer", "viewer-password")).status, 401);
  assert.equal((await login("viewer", "new-viewer-password")).status, 200);
});

test("remove cuts the user's REST and WebSocket within 1 s", async () => {
  await cutWithinASecond("bob", "bob-password", ["remove", "bob"]);
  assert.equal((await login("bob", "bob-password")).status, 401);
  assert.doesNotMatch((await mevlabUser(["list"])).out, /^bob /m);
});

test("the last enabled admin cannot be disabled or removed; unknown users and verbs are named", async () => {
  const disable = await mevlabUser(["disable", "admin"]);
  assert.notEqual(disable.code, 0);
  assert.match(disable.out, /last enabled admin/);
  assert.match((await mevlabUser(["remove", "nobody"])).out, /no user 'nobody'/);
  assert.match((await mevlabUser(["rename", "admin"])).out, /usage: mevlab user/);
  assert.equal((await login("admin", "admin-password")).status, 200);
});
