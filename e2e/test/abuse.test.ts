// Abuse: clients that open connections and reset them at every stage (mid-headers, mid-body, after an
// upgrade is refused or accepted, mid-frame, on the realtime socket and on the bus link, with and
// without valid tokens). The control plane must stay up and a valid command must still be applied.
// One reset on a refused upgrade used to end the process (an unhandled ECONNRESET).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { ControlPlaneClient, LINK_PROTOCOL, REALTIME_PROTOCOL, nodeTransport } from "@mevlab/kernel-helpers";
import { ControlRequest_State as State } from "@mevlab/proto";
import { TokenService, loadOrCreateSecret } from "@mevlab/control-plane";
import { freePort } from "@mevlab/cli";
import { agentCredential, startProcess, stopProcess, waitFor } from "../src/stack";

const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

const ADMIN = { username: "admin", password: "admin-password-1" };
let port: number;
let cp: ChildProcess;
let agent: ChildProcess;
const tokens: Record<string, string> = {};

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-abuse-"));
  port = await freePort();
  const env = { KAFKA_BROKERS: "", MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}` };
  cp = (await startProcess(["control-plane", "--port", String(port), "--data-dir", dataDir], env, /listening/)).child;
  const url = `http://127.0.0.1:${port}`;
  agentCredential(dataDir, "mev", "mev-1");
  agent = (
    await startProcess(
      ["agent", "--module", "mev", "--agent-id", "mev-1", "--rate", "0", "--control-plane", url, "--data-dir", dataDir],
      env,
      /^agent .* ready/,
    )
  ).child;
  const keys = new TokenService(loadOrCreateSecret(join(dataDir, "secrets", "jwt.key")));
  tokens.admin = await keys.issue("admin", "admin", 600);
  tokens.viewer = await keys.issue("viewer", "viewer", 600);
  tokens.agent = await keys.issue("mev-9", "agent", 600, { module: "mev" });
  tokens.expired = await keys.issue("admin", "admin", -10);
  tokens.garbage = "not-a-jwt";
});

after(async () => {
  if (agent) await stopProcess(agent);
  if (cp) await stopProcess(cp);
});

/** Resolves with a connected socket; its errors (our own resets) are expected and ignored. */
function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, "127.0.0.1", () => {
      s.off("error", reject);
      s.on("error", () => undefined);
      resolve(s);
    });
    s.on("error", reject);
  });
}

const written = (s: Socket, data: string | Buffer): Promise<void> =>
  new Promise((resolve) => s.write(data, () => resolve()));

/** The first bytes the server sends, or "" when it closes first. */
const firstBytes = (s: Socket): Promise<string> =>
  new Promise((resolve) => {
    s.once("data", (d: Buffer) => resolve(d.toString("latin1")));
    s.once("close", () => resolve(""));
  });

function upgradeRequest(path: string, protocol: string, token?: string): string {
  const offered = token === undefined ? protocol : `${protocol}, bearer.${token}`;
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Protocol: ${offered}\r\n\r\n`
  );
}

/** A client frame header (masked) that claims `length` bytes of payload. */
function frameHeader(length: number, opcode = 0x2, masked = true): Buffer {
  const mask = masked ? randomBytes(4) : Buffer.alloc(0);
  const bit = masked ? 0x80 : 0;
  if (length < 126) return Buffer.concat([Buffer.from([0x80 | opcode, bit | length]), mask]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(length));
  return Buffer.concat([Buffer.from([0x80 | opcode, bit | 127]), len, mask]);
}

type Stage = (s: Socket) => Promise<void>;

const ENDPOINTS = [
  { path: "/api/realtime/ws", protocol: REALTIME_PROTOCOL, token: "viewer", wrongRole: "agent" },
  { path: "/api/bus/ws", protocol: LINK_PROTOCOL, token: "agent", wrongRole: "admin" },
];

/** Every stage at which a client may reset, each a function that leaves the socket ready to reset. */
function stages(): [string, Stage][] {
  const list: [string, Stage][] = [
    ["mid-headers", (s) => written(s, "POST /api/control/module/mev:stop HTTP/1.1\r\nHost: x\r\nAuthori")],
    [
      "mid-body with a valid token",
      (s) =>
        written(
          s,
          `POST /api/control/module/mev:throttle HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.admin}\r\n` +
            `X-Requested-With: mevlab\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"throttle_pct":`,
        ),
    ],
    [
      "mid-body without a token",
      (s) => written(s, `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"user`),
    ],
    [
      "while a response is being read",
      async (s) => {
        await written(s, `GET /api/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.viewer}\r\n\r\n`);
        await firstBytes(s);
      },
    ],
  ];
  for (const e of ENDPOINTS) {
    /** Sends the upgrade request and checks the answer's status line. */
    const upgraded = async (s: Socket, token: string | undefined, status: number): Promise<void> => {
      await written(s, upgradeRequest(e.path, e.protocol, token));
      const answer = await firstBytes(s);
      assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `), `${e.path} with token ${token ?? "(none)"}`);
    };
    list.push(
      [`${e.path}: mid-upgrade-request`, (s) => written(s, upgradeRequest(e.path, e.protocol).slice(0, 60))],
      [`${e.path}: upgrade sent, reset before the answer`, (s) => written(s, upgradeRequest(e.path, e.protocol))],
      [`${e.path}: refused, no token`, (s) => upgraded(s, undefined, 401)],
      [`${e.path}: refused, garbage token`, (s) => upgraded(s, tokens.garbage, 401)],
      [`${e.path}: refused, expired token`, (s) => upgraded(s, tokens.expired, 401)],
      [`${e.path}: refused, wrong role`, (s) => upgraded(s, tokens[e.wrongRole], 403)],
      [`${e.path}: accepted`, (s) => upgraded(s, tokens[e.token], 101)],
      [
        `${e.path}: accepted, mid-frame`,
        async (s) => {
          await upgraded(s, tokens[e.token], 101);
          await written(s, Buffer.concat([frameHeader(100), randomBytes(10)]));
        },
      ],
      [
        `${e.path}: accepted, a frame past the size limit`,
        async (s) => {
          await upgraded(s, tokens[e.token], 101);
          await written(s, Buffer.concat([frameHeader(64 * 1024 * 1024), randomBytes(32)]));
          await firstBytes(s);
        },
      ],
      [
        `${e.path}: accepted, an unmasked frame`,
        async (s) => {
          await upgraded(s, tokens[e.token], 101);
          await written(s, Buffer.concat([frameHeader(5, 0x2, false), randomBytes(5)]));
          await firstBytes(s);
        },
      ],
      [
        `${e.path}: accepted, a garbage frame`,
        async (s) => {
          await upgraded(s, tokens[e.token], 101);
          const body = randomBytes(50);
          const header = frameHeader(body.length);
          const mask = header.subarray(header.length - 4);
          await written(s, Buffer.concat([header, body.map((b, i) => b ^ mask[i % 4])]));
        },
      ],
    );
  }
  return list;
}

async function controlPlaneWorks(client: ControlPlaneClient): Promise<void> {
  assert.equal(cp.exitCode, null, "the control plane is still running");
  assert.equal(cp.signalCode, null, "the control plane is still running");
  const r = await client.command("mev", "throttle", { throttle_pct: 1 + Math.floor(Math.random() * 99) });
  assert.equal(r.request.state, State.applied, r.request.reason);
  assert.deepEqual(
    r.request.outcomes.map((o) => o.agentId),
    ["mev-1"],
  );
}

test("connections reset at every stage, 10 rounds: the control plane stays up and a command is still applied", async () => {
  const client = await ControlPlaneClient.login({
    url: `http://127.0.0.1:${port}`,
    ...ADMIN,
    transport: nodeTransport,
  });
  await waitFor("mev-1 heartbeat", async () => (await client.agents()).agents.find((a) => a.agent_id === "mev-1"));
  const all = stages();
  for (let round = 0; round < 10; round++) {
    for (const [name, stage] of all) {
      const s = await open();
      await stage(s).catch((err: unknown) => assert.fail(`${name}: ${String(err)}`));
      s.resetAndDestroy();
    }
    // Many at once too, as a flood would come.
    await Promise.all(
      all.map(async ([, stage]) => {
        const s = await open();
        await stage(s);
        s.resetAndDestroy();
      }),
    );
    await controlPlaneWorks(client);
  }
  await client.close();
});

test("a refused upgrade's socket is released even when the client never closes its side", async () => {
  const before = openFiles(cp.pid!);
  const held: Socket[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const s = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      s.on("error", () => undefined);
      held.push(s);
      await written(s, upgradeRequest("/api/realtime/ws", REALTIME_PROTOCOL));
      assert.match(await firstBytes(s), /^HTTP\/1.1 401 /);
    }
    // Without a token, each held a descriptor of the control plane for as long as the client liked.
    await waitFor("the control plane's descriptors back to where they were", () =>
      openFiles(cp.pid!) <= before + 2 ? true : undefined,
    );
  } finally {
    for (const s of held) s.destroy();
  }
});
