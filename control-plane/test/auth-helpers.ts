// What the session, API-token and key tests share: a control plane on a fresh data dir, raw HTTP
// calls (no client library, so what is tested is the API) and WebSockets with their close timing.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { LocalBus, REALTIME_PROTOCOL } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "../src";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
}

export interface Started {
  cp: ControlPlane;
  bus: LocalBus;
  dataDir: string;
  lines: string[];
  stop(): Promise<void>;
}

export async function start(opts: Partial<ControlPlaneOptions> = {}, dataDir?: string): Promise<Started> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "mevlab-auth-"));
  const bus = new LocalBus();
  const lines: string[] = [];
  const cp = await startControlPlane({
    dataDir: dir,
    bus,
    port: 0,
    sink: false,
    logLevel: "silent",
    log: (line) => void lines.push(line),
    ...opts,
  });
  return {
    cp,
    bus,
    dataDir: dir,
    lines,
    stop: async () => {
      await cp.close();
      await bus.close();
    },
  };
}

export async function call(
  cp: ControlPlane,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { "x-requested-with": "mevlab" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${cp.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function login(cp: ControlPlane, username: string, password: string): Promise<Tokens> {
  const res = await call(cp, "POST", "/api/auth/login", { body: { username, password } });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as unknown as Tokens;
}

export const refresh = (cp: ControlPlane, refreshToken: string) =>
  call(cp, "POST", "/api/auth/refresh", { body: { refresh_token: refreshToken } });

/** The status of a read with this token: 200, or 401 once it is refused. */
export const readStatus = async (cp: ControlPlane, token: string): Promise<number> =>
  (await call(cp, "GET", "/api/agents", { token })).status;

/** An open realtime WebSocket and a promise of how it ended: code, reason, and when. */
export interface OpenSocket {
  ws: WebSocket;
  closed: Promise<{ code: number; reason: string; at: number }>;
}

export function openRealtime(cp: ControlPlane, token: string): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${cp.port}/api/realtime/ws`, [REALTIME_PROTOCOL, `bearer.${token}`]);
    const closed = new Promise<{ code: number; reason: string; at: number }>((done) =>
      ws.once("close", (code, reason) => done({ code, reason: reason.toString(), at: Date.now() })),
    );
    ws.once("open", () => resolve({ ws, closed }));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** Resolves with the close, or with undefined when the socket is still open after `ms`. */
export const closedWithin = (s: OpenSocket, ms: number) =>
  Promise.race([s.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

/** The header of a JWT. */
export const jwtHeader = (token: string): { kid?: string } =>
  JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8")) as { kid?: string };
