import type { DatasetManifest } from "../data/export";
import {
  AckOutcome,
  Action,
  ControlRequestSchema,
  ControlRequest_State,
  Format,
  PolicySchema,
  Stream,
  fromWireJson,
  type AgentOutcome,
  type ControlRequest,
  type Event,
  type Hello,
  type JsonValue,
  type Policy,
} from "@mevlab/proto";
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
  modules: ModuleName[];
  action: ActionName;
  policy_version?: number;
}

export interface CommandResult {
  requestId: string;
  /** The final request record: every expected agent's outcome, or `timeout`. */
  request: ControlRequest;
  /** The first agent's answer (absent when no agent answered): outcome, state, throttle, policy. */
  outcome?: AgentOutcome;
  /** From sending the POST to the final request state on the WebSocket, measured here. */
  latencyMs: number;
}

export interface PolicyUpdate {
  module: ModuleName;
  throttle_pct?: number;
  ev_min?: number;
  tip_ladder?: number[];
  kill?: boolean;
  model_id?: string;
  reason?: string;
}

export interface PolicyView {
  module: ModuleName;
  current: Policy;
  history: Policy[];
}

/** One agent as GET /api/agents lists it. */
export interface AgentView {
  agent_id: string;
  module: string;
  state: string;
  throttle_pct: number;
  policy_version: string;
  model_id: string;
  last_seen: number;
  /** No heartbeat for longer than three intervals. */
  stale: boolean;
  /** Counted inside the agent: commands it has applied since it first started. */
  commands_applied: string;
  /** The agent process's run: a new id after every restart. */
  boot_id: string;
  /** When that run started, ms since the epoch. */
  started_at: number;
}

const RECENT = 2_000;

/**
 * Typed client of the control plane for notebooks, services and the JupyterLab extension. It holds
 * one realtime connection, opened on first need, through which command acks arrive.
 */
/** `POST /api/datasets/scrape`: the blueprint's body (`compression`, `from`, `to` are accepted too). */
export interface ScrapeRequest {
  start: string | number;
  end: string | number;
  types: string[];
  dex?: string[];
  modules?: string[];
  format?: "parquet" | "jsonl";
  compress?: "zstd" | "gzip" | "none";
  /** Relative to the control plane's export root, or s3://bucket/prefix; default a new dated name. */
  output?: string;
}

/** A job as the control plane shows it (64-bit counters as strings). */
export interface JobView {
  id: string;
  kind: string;
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  created_by?: string;
  created_at?: string;
  phase?: string;
  fraction?: number;
  rows?: string;
  bytes?: string;
  files_done?: number;
  files_total?: number;
  error?: string;
  output?: string;
  dataset_id?: string;
  params: Record<string, unknown> | null;
  manifest: DatasetManifest | null;
}

export interface CuratedQueryResult {
  ok: true;
  name: string;
  source: "clickhouse" | "local";
  columns: Array<{ name: string; type: string }>;
  rows: Array<Record<string, unknown>>;
  row_count: number;
  elapsed_ms: number;
}

export class ControlPlaneClient {
  private realtimeReady?: Promise<RealtimeConnection>;
  private readonly finished = new Map<string, ControlRequest>();
  private readonly waiters = new Map<string, (request: ControlRequest) => void>();

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

  /** Sends a control command and waits until its request is final (every expected agent acked). */
  command(
    module: ModuleName,
    action: ActionName,
    args: ControlArgsJson = {},
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    return this.tracked(() => this.control(module, action, args), opts.timeoutMs);
  }

  /** Kills every module; resolves when every live agent has acked. */
  killAll(opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    return this.tracked(() => this.post("/api/control/kill-all", {}), opts.timeoutMs);
  }

  retryBundle(
    bundleId: string,
    tipLamports: bigint | number,
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    const body = { bundle_id: bundleId, tip_lamports: tipLamports.toString() };
    return this.tracked(() => this.post("/api/agents/bundle/retry", body), opts.timeoutMs);
  }

  /** Promotes a new policy version; resolves when the module's agents run it. */
  updatePolicy(update: PolicyUpdate, opts: { timeoutMs?: number } = {}): Promise<CommandResult & { version: number }> {
    return this.trackedPolicy(() => this.post("/api/policy/update", update), opts.timeoutMs);
  }

  rollbackPolicy(
    module: ModuleName,
    version: number,
    reason = "",
    opts: { timeoutMs?: number } = {},
  ): Promise<CommandResult & { version: number }> {
    return this.trackedPolicy(() => this.post(`/api/policy/${module}/rollback`, { version, reason }), opts.timeoutMs);
  }

  async policy(module: ModuleName): Promise<PolicyView> {
    const res = await requestJson<{ module: ModuleName; current: JsonValue; history: JsonValue[] }>(
      this.transport.fetch,
      this.url,
      `/api/policy/${module}`,
      { token: this.token },
    );
    return {
      module: res.module,
      current: fromWireJson(PolicySchema, res.current),
      history: res.history.map((p) => fromWireJson(PolicySchema, p)),
    };
  }

  async request(requestId: string): Promise<ControlRequest> {
    const json = await requestJson<JsonValue>(
      this.transport.fetch,
      this.url,
      `/api/control/requests/${encodeURIComponent(requestId)}`,
      { token: this.token },
    );
    return fromWireJson(ControlRequestSchema, json);
  }

  waitForRequest(requestId: string, timeoutMs: number): Promise<ControlRequest> {
    const done = this.finished.get(requestId);
    if (done) return Promise.resolve(done);
    return new Promise<ControlRequest>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new TimeoutError(`request ${requestId} not final within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(requestId, (request) => {
        clearTimeout(timer);
        resolve(request);
      });
    });
  }

  private post(path: string, body: unknown): Promise<ControlAccepted> {
    return requestJson<ControlAccepted>(this.transport.fetch, this.url, path, {
      method: "POST",
      body: JSON.stringify(body),
      token: this.token,
    });
  }

  private async tracked(send: () => Promise<ControlAccepted>, timeoutMs = 15_000): Promise<CommandResult> {
    return (await this.trackedAccepted(send, timeoutMs)).result;
  }

  private async trackedPolicy(
    send: () => Promise<ControlAccepted>,
    timeoutMs = 15_000,
  ): Promise<CommandResult & { version: number }> {
    const { accepted, result } = await this.trackedAccepted(send, timeoutMs);
    return { ...result, version: accepted.policy_version ?? 0 };
  }

  private async trackedAccepted(
    send: () => Promise<ControlAccepted>,
    timeoutMs: number,
  ): Promise<{ accepted: ControlAccepted; result: CommandResult }> {
    await this.realtime();
    const started = now();
    const accepted = await send();
    const request = await this.waitForRequest(accepted.request_id, timeoutMs);
    const latencyMs = now() - started;
    return {
      accepted,
      result: { requestId: accepted.request_id, request, outcome: request.outcomes[0], latencyMs },
    };
  }

  /** Starts a dataset export job on the control plane (the blueprint's scrape body). */
  scrape(body: ScrapeRequest): Promise<{ ok: true; job_id: string; output: string; job: JobView }> {
    return requestJson(this.transport.fetch, this.url, "/api/datasets/scrape", {
      method: "POST",
      body: JSON.stringify(body),
      token: this.token,
    });
  }

  job(id: string): Promise<JobView> {
    return requestJson(this.transport.fetch, this.url, `/api/datasets/jobs/${encodeURIComponent(id)}`, {
      token: this.token,
    });
  }

  jobs(): Promise<{ jobs: JobView[] }> {
    return requestJson(this.transport.fetch, this.url, "/api/datasets/jobs", { token: this.token });
  }

  cancelJob(id: string): Promise<{ ok: true; job: JobView }> {
    return requestJson(this.transport.fetch, this.url, `/api/datasets/jobs/${encodeURIComponent(id)}/cancel`, {
      method: "POST",
      body: "{}",
      token: this.token,
    });
  }

  /** Polls a job until it has finished (succeeded, failed or cancelled). */
  async waitForJob(id: string, opts: { timeoutMs?: number; onUpdate?: (job: JobView) => void } = {}): Promise<JobView> {
    const deadline = now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const job = await this.job(id);
      opts.onUpdate?.(job);
      if (job.state === "succeeded" || job.state === "failed" || job.state === "cancelled") return job;
      if (now() > deadline) throw new TimeoutError(`job ${id} still ${job.state} after ${opts.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Runs a named query of the control plane's curated registry. */
  curatedQuery(name: string, params: Record<string, string | number> = {}): Promise<CuratedQueryResult> {
    return requestJson(this.transport.fetch, this.url, "/api/clickhouse/query", {
      method: "POST",
      body: JSON.stringify({ name, params }),
      token: this.token,
    });
  }

  agents(): Promise<{ agents: AgentView[] }> {
    return requestJson(this.transport.fetch, this.url, "/api/agents", { token: this.token });
  }

  /**
   * The shared realtime connection: agent status (or the streams `request` names) and the final
   * record of every request, through which `command` and the like learn their outcome.
   */
  realtime(request?: SubscribeRequest): Promise<RealtimeConnection> {
    this.realtimeReady ??= RealtimeConnection.open(this.url, this.token, this.transport.webSocket, {
      streams: [...(request?.streams ?? [Stream.agent_status]), Stream.control_request],
      modules: request?.modules,
      format: request?.format ?? Format.protobuf,
      finalRequests: true,
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
      if (ev.payload.case === "controlRequest") {
        const request = ev.payload.value;
        if (request.state === ControlRequest_State.pending) continue;
        remember(this.finished, request.requestId, request);
        const waiter = this.waiters.get(request.requestId);
        if (waiter) {
          this.waiters.delete(request.requestId);
          waiter(request);
        }
      }
    }
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= RECENT) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
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

export { AckOutcome, Action, ControlRequest_State };
