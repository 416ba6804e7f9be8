// WebSockets that cost the control plane without a live peer behind them: a peer that stops answering
// (a frozen agent kept its link and its commands for good) is dropped after a missed ping, and one
// user, or all users together, cannot open more sockets than the caps (one viewer's 2,000 realtime
// sockets took the control plane from 156 to 832 MiB).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { LINK_PROTOCOL, LocalBus, REALTIME_PROTOCOL } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";

const PING_MS = 200;
let bus: LocalBus;
let cp: ControlPlane;
const lines: string[] = [];

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-ws-liveness-")),
    bus,
    port: 0,
    sink: false,
    wsPingMs: PING_MS,
    wsMaxPerUser: 3,
    wsMax: 5,
    logLevel: "silent",
    log: (line) => void lines.push(line),
  });
});

after(async () => {
  await cp.close();
  await bus.close();
});

const token = (sub: string, role: "viewer" | "admin" | "agent") =>
  cp.tokens.issue(sub, role, 600, role === "agent" ? { module: "mev" } : {});

/** Opens a socket; resolves with it once open, or with the refusal's status and body. */
function open(
  path: string,
  protocol: string,
  bearer: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ ws?: WebSocket; status?: number; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${cp.port}${path}`, [protocol, `bearer.${bearer}`], options);
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    ws.once("error", reject);
  });
}

const closed = (ws: WebSocket): Promise<number> =>
  new Promise((resolve) => {
    const started = Date.now();
    ws.once("close", () => resolve(Date.now() - started));
  });

test(
  "a peer that does not answer a ping is dropped within two intervals; one that answers stays",
  { timeout: 10_000 },
  async () => {
    const agent = await token("mev-1", "agent");
    const mute = (await open("/api/bus/ws", LINK_PROTOCOL, agent, { autoPong: false })).ws!;
    const live = (await open("/api/realtime/ws", REALTIME_PROTOCOL, await token("v-live", "viewer"))).ws!;
    const muteRealtime = (
      await open("/api/realtime/ws", REALTIME_PROTOCOL, await token("v-mute", "viewer"), { autoPong: false })
    ).ws!;
    const [linkMs, realtimeMs] = await Promise.all([closed(mute), closed(muteRealtime)]);
    assert.ok(linkMs <= 2 * PING_MS + 150, `bus link dropped after ${linkMs} ms`);
    assert.ok(realtimeMs <= 2 * PING_MS + 150, `realtime socket dropped after ${realtimeMs} ms`);
    assert.ok(
      lines.some((l) => /\/api\/bus\/ws \(mev-1\): no answer to a ping/.test(l)),
      lines.join("\n"),
    );
    await new Promise((r) => setTimeout(r, 3 * PING_MS));
    assert.equal(live.readyState, WebSocket.OPEN, "a peer that answers keeps its socket");
    live.close();
    await closed(live);
  },
);

test(
  "sockets past the per-user cap get 429, past the global cap 503, and a closed one frees its slot",
  { timeout: 10_000 },
  async () => {
    const alice = await token("alice", "viewer");
    const mine = await Promise.all([1, 2, 3].map(() => open("/api/realtime/ws", REALTIME_PROTOCOL, alice)));
    assert.ok(mine.every((s) => s.ws));
    const fourth = await open("/api/realtime/ws", REALTIME_PROTOCOL, alice);
    assert.equal(fourth.status, 429);
    const body = JSON.parse(fourth.body!) as { ok: boolean; error: { code: string; message: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, "too_many_sockets");
    assert.match(body.error.message, /'alice' has 3 WebSockets open/);

    const bob = await token("bob", "viewer");
    const bobs = [
      await open("/api/realtime/ws", REALTIME_PROTOCOL, bob),
      await open("/api/realtime/ws", REALTIME_PROTOCOL, bob),
    ];
    assert.ok(bobs.every((s) => s.ws));
    const sixth = await open("/api/realtime/ws", REALTIME_PROTOCOL, await token("carol", "viewer"));
    assert.equal(sixth.status, 503);
    assert.equal((JSON.parse(sixth.body!) as { error: { code: string } }).error.code, "server_busy");

    mine[0].ws!.close();
    await closed(mine[0].ws!);
    const again = await open("/api/realtime/ws", REALTIME_PROTOCOL, alice);
    assert.ok(again.ws, "a closed socket gives its slot back");
    for (const s of [...mine.slice(1), ...bobs, again]) s.ws!.close();
  },
);
