// Liveness and caps against a real control-plane process and real agents:
// - a frozen agent (SIGSTOP) kept its bus link and its commands: with a second run of it started, a
//   kill to its module ended in `timeout` while the live run kept running;
// - one viewer opened 2,000 realtime sockets (RSS 156 → 832 MiB);
// - 200 connections trickling a body were still held after 145 s (Fastify's requestTimeout 0).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { ControlPlaneClient, REALTIME_PROTOCOL, nodeTransport } from "@mevlab/kernel-helpers";
import { ControlRequest_State as State } from "@mevlab/proto";
import { freePort } from "@mevlab/cli";
import { agentCredential, login, mevlab, startProcess, stopProcess, waitFor } from "../src/stack";

const PING_MS = 1_000;
/** The shipped defaults: 32 sockets per user, a request received whole within 30 s. */
const PER_USER = 32;
const REQUEST_TIMEOUT_MS = 30_000;
const ADMIN = { username: "admin", password: "admin-password-1" };
const VIEWER = { username: "viewer", password: "viewer-password-1" };

let dataDir: string;
let url: string;
let port: number;
let cp: ChildProcess;
const cpLog: { at: number; line: string }[] = [];
const agents: ChildProcess[] = [];

const rssMiB = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-liveness-"));
  mevlab(["user", "add", VIEWER.username, "--role", "viewer", "--data-dir", dataDir], {
    MEVLAB_PASSWORD: VIEWER.password,
  });
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env = {
    KAFKA_BROKERS: "",
    MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}`,
    MEVLAB_WS_PING_MS: String(PING_MS),
    MEVLAB_LOG_LEVEL: "warn",
  };
  cp = (await startProcess(["control-plane", "--port", String(port), "--data-dir", dataDir], env, /listening/)).child;
  cp.stderr!.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n")) if (line) cpLog.push({ at: Date.now(), line });
  });
  agentCredential(dataDir, "arbitrage", "arbitrage-1");
});

after(async () => {
  for (const a of agents) a.kill("SIGKILL");
  if (cp) await stopProcess(cp);
});

/** `mevlab agent` as arbitrage-1, with a state file of its own (a second run on another host). */
async function startAgent(stateFile: string): Promise<ChildProcess> {
  const args = ["agent", "--module", "arbitrage", "--agent-id", "arbitrage-1", "--rate", "0"];
  const { child } = await startProcess(
    [...args, "--control-plane", url, "--data-dir", dataDir, "--state-file", join(dataDir, stateFile)],
    { KAFKA_BROKERS: "" },
    /^agent .* ready/,
  );
  agents.push(child);
  return child;
}

test("a frozen agent is dropped within the ping interval, and the run that replaced it applies the next kill", async () => {
  const client = await ControlPlaneClient.login({ url, ...ADMIN, transport: nodeTransport });
  const bootOf = async (): Promise<string | undefined> =>
    (await client.agents()).agents.find((a) => a.agent_id === "arbitrage-1")?.boot_id;
  const frozen = await startAgent("frozen.json");
  const frozenBoot = await waitFor("the first run's heartbeat", bootOf);

  frozen.kill("SIGSTOP");
  const frozenAt = Date.now();
  await startAgent("replacement.json");
  await waitFor("the second run's heartbeat", async () => ((await bootOf()) !== frozenBoot ? true : undefined));
  const dropped = await waitFor(
    "the frozen run's link dropped",
    () => cpLog.find((l) => /\/api\/bus\/ws \(arbitrage-1\): no answer to a ping/.test(l.line)),
    10_000,
  );
  const dropMs = dropped.at - frozenAt;
  process.stdout.write(`liveness: frozen agent's link dropped ${dropMs} ms after SIGSTOP (ping every ${PING_MS} ms)\n`);
  assert.ok(dropMs <= 2 * PING_MS + 1_000, `dropped after ${dropMs} ms`);

  const r = await client.command("arbitrage", "kill", {}, { timeoutMs: 20_000 });
  assert.equal(r.request.state, State.applied, r.request.reason);
  assert.deepEqual(
    r.request.outcomes.map((o) => o.agentId),
    ["arbitrage-1"],
  );
  const live = await waitFor("the second run killed", async () =>
    (await client.agents()).agents.find((a) => a.agent_id === "arbitrage-1" && a.state === "killed"),
  );
  assert.notEqual(live.boot_id, frozenBoot, "the live run applied it");
  await client.close();
});

/** Opens a realtime socket; resolves with it once open, or with the refusal's status. */
function openRealtime(token: string): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace("http", "ws")}/api/realtime/ws`, [REALTIME_PROTOCOL, `bearer.${token}`]);
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    ws.once("error", (err) => resolve({ body: String(err) }));
  });
}

test("2,000 realtime sockets from one viewer: refused past the cap with 429, RSS under 300 MiB", async () => {
  const token = await login(url, VIEWER.username, VIEWER.password);
  const before = rssMiB(cp.pid!);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(cp.pid!))), 20);
  const results: { ws?: WebSocket; status?: number; body?: string }[] = [];
  for (let i = 0; i < 2_000; i += 250) {
    results.push(...(await Promise.all(Array.from({ length: 250 }, () => openRealtime(token)))));
  }
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(cp.pid!));
  const open = results.filter((r) => r.ws);
  const refused = results.filter((r) => r.status === 429);
  process.stdout.write(
    `liveness: 2,000 sockets: ${open.length} open, ${refused.length} refused (429); RSS ${before.toFixed(0)} → peak ${peak.toFixed(0)} MiB\n`,
  );
  assert.equal(open.length, PER_USER);
  assert.equal(refused.length, 2_000 - PER_USER, results.find((r) => !r.ws && r.status !== 429)?.body);
  assert.match(refused[0].body!, /"code":"too_many_sockets"/);
  assert.ok(peak < 300, `RSS peaked at ${peak.toFixed(0)} MiB`);
  for (const r of open) r.ws!.close();
});

/** Sends headers and one byte of body every second; resolves with how long the server held it. */
function trickleBody(): Promise<number> {
  return new Promise((resolve) => {
    const started = Date.now();
    let timer: NodeJS.Timeout;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
      );
      timer = setInterval(() => socket.write(" "), 1_000);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      resolve(Date.now() - started);
    });
    setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS + 20_000).unref();
  });
}

test("200 connections trickling a body are cut off at the request timeout", async () => {
  const held = await Promise.all(Array.from({ length: 200 }, () => trickleBody()));
  const longest = Math.max(...held);
  process.stdout.write(`liveness: 200 slow bodies: cut off after ${Math.min(...held)}–${longest} ms\n`);
  // Node checks the timeout once a second, and answers 408 before it closes.
  assert.ok(longest < REQUEST_TIMEOUT_MS + 5_000, `held ${longest} ms`);
  assert.ok(Math.min(...held) >= REQUEST_TIMEOUT_MS - 1_000, "not before the timeout");
  const res = await fetch(`${url}/api/agents`);
  assert.equal(res.status, 401, "the control plane still answers");
});
