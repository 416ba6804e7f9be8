import { STATUS_CODES, type IncomingMessage } from "node:http";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import {
  LINK_MAX_FRAME_BYTES,
  LINK_PROTOCOL,
  LinkSession,
  REALTIME_PROTOCOL,
  describe,
  type Bus,
} from "@mevlab/kernel-helpers";
import { wsToken } from "../auth/guard";
import type { Principal, TokenService } from "../auth/tokens";
import type { RealtimeHub } from "./hub";
import { agentLinkGuard } from "./link-guard";
import { Heartbeat, SocketCaps } from "./liveness";
import { TokenLifetimes, type SessionExpiry } from "./token-lifetime";

/** A realtime client sends only subscribe frames: small. */
const REALTIME_MAX_FRAME_BYTES = 64 * 1024;

interface Endpoint {
  wss: WebSocketServer;
  roles: readonly Principal["role"][];
  serve(ws: WebSocket, who: Principal): void;
}

/** A peer that goes away (reset, half-sent request) is routine; anything else is worth a log line. */
const PEER_GONE = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ETIMEDOUT"]);
/** An upgrade request is answered (accepted or refused) within this, or its socket is dropped. */
const UPGRADE_TIMEOUT_MS = 10_000;

/** Liveness and caps of the accepted sockets (ControlPlaneConfig has them all). */
export interface SocketLimits {
  wsPingMs: number;
  wsMaxPerUser: number;
  wsMax: number;
}

const REFUSAL_CODES: Record<number, string> = { 401: "unauthenticated", 403: "forbidden", 404: "not_found" };

/** What webSocketUpgrades is given. */
export interface UpgradeDeps {
  tokens: TokenService;
  hub: RealtimeHub;
  bus: Bus;
  deflate: boolean;
  limits: SocketLimits;
  log: (line: string) => void;
  /** A frame an agent's link session refused: counted and logged by the caller. */
  onLinkRefused?: (agentId: string, kind: string, reason: string) => void;
  /** When its token expires, until when a socket of a session still refreshed may stay open. */
  sessionExpiry?: SessionExpiry;
  /** A token presented on an upgrade and refused (bad, expired, revoked): audited by the caller. */
  onRefusedToken?: (ip: string, path: string, reason: string) => void;
}

/**
 * Authenticates WebSocket upgrades before accepting them (401/403 on the HTTP response), refuses
 * one past the caps (429 per user, 503 in all), pings every accepted socket and closes each when its
 * token expires or is revoked (token-lifetime.ts). Every socket it touches has an error handler from
 * the first byte: an upgrade request leaves Node's HTTP server, whose handler no longer covers its
 * socket, and one reset on a refused upgrade ended the process.
 */
export function webSocketUpgrades(deps: UpgradeDeps) {
  const endpoints = endpointsFor(deps);

  /** Upgrade requests being answered: ended with the server, and each within UPGRADE_TIMEOUT_MS. */
  const upgrading = new Set<Duplex>();
  const refuse = (socket: Duplex, status: number, message: string, code?: string): void => {
    upgrading.delete(socket);
    refuseUpgrade(socket, status, message, code);
  };
  const caps = new SocketCaps(deps.limits.wsMaxPerUser, deps.limits.wsMax);
  const lifetimes = new TokenLifetimes(deps.log, deps.sessionExpiry);
  const heartbeat = new Heartbeat(deps.limits.wsPingMs, (peer) =>
    deps.log(`${peer}: no answer to a ping within ${deps.limits.wsPingMs} ms; connection dropped`),
  );

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (!PEER_GONE.has(err.code ?? "")) deps.log(`upgrade socket from ${req.socket.remoteAddress}: ${describe(err)}`);
    });
    upgrading.add(socket);
    socket.once("close", () => upgrading.delete(socket));
    // ws clears it when it takes the socket over.
    if (socket instanceof Socket) socket.setTimeout(UPGRADE_TIMEOUT_MS, () => socket.destroy());
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const endpoint = endpoints[path];
    if (!endpoint) return refuse(socket, 404, `no WebSocket endpoint at ${path}`);
    const token = wsToken(req.headers["sec-websocket-protocol"], req.url);
    if (!token) return refuse(socket, 401, "missing token: offer the sub-protocol bearer.<token> or add ?token=");
    deps.tokens.verify(token).then(
      (who) => {
        if (!endpoint.roles.includes(who.role)) return refuse(socket, 403, `role '${who.role}' may not open ${path}`);
        const refusal = caps.take(who.sub);
        if (refusal) return refuse(socket, refusal.status, refusal.message, refusal.code);
        socket.once("close", () => caps.give(who.sub));
        upgrading.delete(socket);
        endpoint.wss.handleUpgrade(req, socket, head, (ws) => {
          const name = `${path} (${who.sub})`;
          heartbeat.watch(ws, name);
          // ws reports a peer's bad frame (too large, unmasked, bad opcode) here, and closes that
          // connection with the matching close code (1009, 1002) itself.
          ws.on("error", (err) => deps.log(`${name}: ${describe(err)}; connection closed`));
          lifetimes.add(ws, who, name);
          endpoint.serve(ws, who);
        });
      },
      (err: Error) => {
        deps.onRefusedToken?.(req.socket.remoteAddress ?? "", path, err.message);
        refuse(socket, 401, err.message);
      },
    );
  };
  /** Closing the HTTP server leaves upgraded sockets open: end them too. */
  const closeSockets = (): void => {
    heartbeat.stop();
    for (const socket of upgrading) socket.destroy();
    upgrading.clear();
    for (const { wss } of Object.values(endpoints)) {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    }
  };
  /** Closes each socket whose token is refused now (revoked, its user disabled or removed). */
  const closeRevoked = (refused: (who: Principal) => string | undefined): void => lifetimes.closeRefused(refused);
  return { handleUpgrade, closeSockets, closeRevoked };
}

/** The two WebSocket endpoints: who may open each, its frame limit, and what serves it. */
function endpointsFor(deps: UpgradeDeps): Record<string, Endpoint> {
  const server = (protocol: string, maxPayload: number) => endpointServer(protocol, maxPayload, deps.deflate);
  return {
    "/api/realtime/ws": {
      wss: server(REALTIME_PROTOCOL, REALTIME_MAX_FRAME_BYTES),
      roles: ["admin", "viewer"],
      serve: (ws, who) => serveRealtime(ws, who, deps.hub),
    },
    "/api/bus/ws": {
      // Agents split what they send to fit (proto/TOPICS.md); a larger frame closes the link with 1009.
      wss: server(LINK_PROTOCOL, LINK_MAX_FRAME_BYTES),
      roles: ["agent"],
      serve: (ws, who) => serveLink(ws, who, deps),
    },
  };
}

/** The server of one endpoint: upgrades only, its frame limit, its sub-protocol. */
function endpointServer(protocol: string, maxPayload: number, deflate: boolean): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    maxPayload,
    // Only for clients that offer it, and only frames worth compressing (see `COMPRESS_FROM`); level 1
    // keeps CPU low.
    perMessageDeflate: deflate
      ? { threshold: COMPRESS_FROM, zlibDeflateOptions: { level: 1 }, serverNoContextTakeover: false }
      : false,
    handleProtocols: (protocols) => (protocols.has(protocol) ? protocol : false),
  });
}

/**
 * Answers an upgrade with an error in the API's shape. The socket is gone once the answer is written,
 * whether or not the peer ever closes its side (the server allows half-open sockets, and an upgrade
 * socket is outside its timeouts): no token needed to hold one.
 */
function refuseUpgrade(socket: Duplex, status: number, message: string, code = REFUSAL_CODES[status]): void {
  const body = JSON.stringify({ ok: false, error: { code, message } });
  socket.once("finish", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Frames below this size go out uncompressed. ws applies its own `threshold` only when no context
 * takeover was negotiated; with context takeover it deflates every frame on the thread pool, which
 * put a thread hop (and ws' send queue behind it) in front of every small request record.
 */
const COMPRESS_FROM = 1024;

const frameOptions = (data: string | Uint8Array, text?: boolean) => ({
  binary: typeof data !== "string" && !text,
  compress: (typeof data === "string" ? data.length : data.byteLength) >= COMPRESS_FROM,
});

function serveRealtime(ws: WebSocket, who: Principal, hub: RealtimeHub): void {
  const client = hub.attach(
    {
      send: (data, text) => ws.send(data, frameOptions(data, text)),
      bufferedAmount: () => ws.bufferedAmount,
    },
    { user: who.sub, role: who.role, expiresAt: who.exp * 1000 },
  );
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (ws.readyState === ws.OPEN) client.handleMessage(isBinary ? new Uint8Array(data) : data.toString("utf8"));
  });
  ws.on("close", () => hub.detach(client));
}

/**
 * A link session bound to the agent its token names: the guard allows that agent's own topics, group
 * and records only (link-guard.ts); what it refuses is counted and logged by `onLinkRefused`.
 */
function serveLink(
  ws: WebSocket,
  who: Principal,
  deps: { bus: Bus; onLinkRefused?: (agentId: string, kind: string, reason: string) => void },
): void {
  if (who.module !== "arbitrage" && who.module !== "mev") {
    ws.close(1008, "this agent token names no module: mint a credential with mevlab agent-credential");
    return;
  }
  const session = new LinkSession(
    deps.bus,
    (data) => ws.send(data),
    (reason) => ws.close(1011, reason.slice(0, 120)),
    {
      guard: agentLinkGuard({ agentId: who.sub, module: who.module }),
      onRefused: (kind, reason) => deps.onLinkRefused?.(who.sub, kind, reason),
    },
  );
  ws.on("message", (data: Buffer) => {
    if (ws.readyState === ws.OPEN) void session.handleMessage(new Uint8Array(data));
  });
  ws.on("close", () => void session.close());
}
