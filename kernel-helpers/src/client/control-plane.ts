import { AckOutcome, Action, Format, Module, Stream, type ControlAck, type Event, type Hello } from "@mevlab/proto";
import { MevlabError, NetworkError, TimeoutError } from "../errors";
import { requestJson, type FetchLike } from "./http";
import { REALTIME_PROTOCOL, RealtimeSession, type RealtimeListener, type SubscribeRequest } from "./realtime";

/** The part of the WebSocket API mevlab needs: the browser's WebSocket and `ws` both have it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

export interface Transport {
  fetch: FetchLike;
  webSocket: WebSocketFactory;
}

export type ModuleName = "arbitrage" | "mev";
export type ActionName = "start" | "stop" | "restart" | "throttle" | "policy" | "kill" | "retry_bundle";

/** The blueprint's control body. */
export interface ControlArgsJson {
  throttle_pct?: number;
  ev_min?: number;
  tip_ladder?: number[];
  kill?: boolean;
  bundle_id?: string;
  tip_lamports?: number | string;
}

export interface LoginResponse {
  access_token: string;
  role: "admin" | "viewer";
  expires_in: number;
}

export interface ControlAccepted {
  ok: true;
  request_id: string;
  module: ModuleName;
  action: ActionName;
}

export interface CommandResult {
  requestId: string;
  ack: ControlAck;
  /** From sending the POST to receiving the ack on the WebSocket, measured here. */
  latencyMs: number;
}

export interface AgentView {
  agent_id: string;
  module: ModuleName;
  state: string;
  throttle_pct: number;
  policy_version: string;
  last_seen: number;
  stale: boolean;
}

const RECENT_ACKS = 2_000;

/**
 * Typed client of the control plane for notebooks, services and the JupyterLab extension. It holds
 * one realtime connection, opened on first need, through which command acks arrive.
 */
export class ControlPlaneClient {
  private realtimeReady?: Promise<RealtimeConnection>;
  private readonly recentAcks = new Map<string, ControlAck>();
  private readonly ackWaiters = new Map<string, (ack: ControlAck) => void>();

  private constructor(
    readonly url: string,
    private readonly transport: Transport,
    readonly token: string,
    readonly role: "admin" | "viewer",
    readonly expiresAt: number,
  ) {}

  static async login(opts: {
    url: string;
    username: string;
    password: string;
    transport: Transport;
  }): Promise<ControlPlaneClient> {
    const res = await requestJson<LoginResponse>(opts.transport.fetch, opts.url, "/api/auth/login", {
      method: "POST",
      body: JSON.stringify({ username: opts.username, password: opts.password }),
    });
    return new ControlPlaneClient(
      opts.url,
      opts.transport,
      res.access_token,
      res.role,
      Date.now() + res.expires_in * 1000,
    );
  }

  /** Sends a control command; resolves when the control plane has published it. */
  control(module: ModuleName, action: ActionName, args: ControlArgsJson = {}): Promise<ControlAccepted> {
    return requestJson<ControlAccepted>(
      this.transport.fetch,
      this.url,
      `/api/control/module/${encodeURIComponent(module)}:${encodeURIComponent(action)}`,
      { method: "POST", body: JSON.stringify(args), token: this.token },
    );
  }

  /** Sends a control command and waits for the first agent's ack on the WebSocket. */
  async command(
    module: ModuleName,
    action: ActionName,
    args: ControlArgsJson = {},
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    await this.realtime();
    const started = now();
    const accepted = await this.control(module, action, args);
    const ack = await this.waitForAck(accepted.request_id, opts.timeoutMs ?? 10_000);
    return { requestId: accepted.request_id, ack, latencyMs: now() - started };
  }

  waitForAck(requestId: string, timeoutMs: number): Promise<ControlAck> {
    const seen = this.recentAcks.get(requestId);
    if (seen) return Promise.resolve(seen);
    return new Promise<ControlAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ackWaiters.delete(requestId);
        reject(new TimeoutError(`no ack for ${requestId} within ${timeoutMs} ms: is an agent of that module running?`));
      }, timeoutMs);
      this.ackWaiters.set(requestId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
    });
  }

  agents(): Promise<{ agents: AgentView[] }> {
    return requestJson(this.transport.fetch, this.url, "/api/agents", { token: this.token });
  }

  /** The shared realtime connection, subscribed to acks and status (and what `request` adds). */
  realtime(request?: SubscribeRequest): Promise<RealtimeConnection> {
    this.realtimeReady ??= RealtimeConnection.open(this.url, this.token, this.transport.webSocket, {
      streams: request?.streams ?? [Stream.control_ack, Stream.agent_status],
      modules: request?.modules,
      format: request?.format ?? Format.ndjson,
    }).then((conn) => {
      conn.listen({ onEvents: (events) => this.onEvents(events) });
      conn.onClose(() => {
        this.realtimeReady = undefined;
      });
      return conn;
    });
    return this.realtimeReady;
  }

  async close(): Promise<void> {
    const rt = this.realtimeReady;
    this.realtimeReady = undefined;
    if (rt) (await rt).close();
  }

  private onEvents(events: Event[]): void {
    for (const ev of events) {
      if (ev.payload.case !== "controlAck") continue;
      const ack = ev.payload.value;
      if (this.recentAcks.size >= RECENT_ACKS) {
        const oldest = this.recentAcks.keys().next().value;
        if (oldest !== undefined) this.recentAcks.delete(oldest);
      }
      if (!this.recentAcks.has(ack.requestId)) this.recentAcks.set(ack.requestId, ack);
      const waiter = this.ackWaiters.get(ack.requestId);
      if (waiter) {
        this.ackWaiters.delete(ack.requestId);
        waiter(ack);
      }
    }
  }
}

/** One open realtime WebSocket. Resolves `open` once the server has confirmed the subscription. */
export class RealtimeConnection {
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();

  private constructor(
    private readonly ws: WebSocketLike,
    readonly session: RealtimeSession,
    readonly hello: Hello,
  ) {}

  static open(
    baseUrl: string,
    token: string,
    factory: WebSocketFactory,
    request: SubscribeRequest,
  ): Promise<RealtimeConnection> {
    const url = baseUrl.replace(/^http/, "ws").replace(/\/$/, "") + "/api/realtime/ws";
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = factory(url, [REALTIME_PROTOCOL, `bearer.${token}`]);
      } catch (err) {
        reject(new NetworkError(baseUrl, err));
        return;
      }
      ws.binaryType = "arraybuffer";
      const session = new RealtimeSession((data) => ws.send(data));
      let conn: RealtimeConnection | undefined;
      const stopHello = session.listen({
        onHello: (hello) => {
          stopHello();
          conn = new RealtimeConnection(ws, session, hello);
          resolve(conn);
        },
        onError: (code, message) => reject(new MevlabError(`realtime: ${code}: ${message}`)),
      });
      ws.onopen = () => session.subscribe(request);
      ws.onmessage = (ev) => session.handleMessage(ev.data as string | ArrayBuffer);
      ws.onerror = () => {
        if (!conn) reject(new NetworkError(baseUrl, new Error(`WebSocket to ${url} failed`)));
      };
      ws.onclose = (ev) => {
        if (!conn) reject(new NetworkError(baseUrl, new Error(`WebSocket closed: ${ev.code} ${ev.reason}`)));
        else for (const l of conn.closeListeners) l(ev.code, ev.reason);
      };
    });
  }

  listen(listener: RealtimeListener): () => void {
    return this.session.listen(listener);
  }

  onClose(listener: (code: number, reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    this.ws.close(1000, "client closed");
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

export function moduleName(m: Module): ModuleName | undefined {
  return m === Module.arbitrage ? "arbitrage" : m === Module.mev ? "mev" : undefined;
}

export const MODULE_NAMES: readonly ModuleName[] = ["arbitrage", "mev"];

export { AckOutcome, Action };
