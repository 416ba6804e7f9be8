import {
  ControlRequestSchema,
  Format,
  PolicySchema,
  Stream,
  fromWireJson,
  type AgentOutcome,
  type ControlRequest,
  type Policy,
} from "@mevlab/proto";
import { TimeoutError } from "../errors";
import { FinalRequests } from "./final-requests";
import { requestJson } from "./http";
import type { SubscribeRequest } from "./realtime";
import { RealtimeConnection } from "./realtime-connection";
import type { Transport } from "./transport";
import type {
  ActionName,
  AgentList,
  ControlAccepted,
  ControlArgsJson,
  ControlRequestJson,
  CuratedQueryResult,
  JobCancelled,
  JobList,
  JobView,
  LoginResponse,
  ModuleName,
  PolicyUpdate,
  PolicyViewJson,
  ScrapeAccepted,
  ScrapeRequest,
} from "./wire";

export interface CommandResult {
  requestId: string;
  /** The final request record: every expected agent's outcome, or `timeout`. */
  request: ControlRequest;
  /** The first agent's answer (absent when no agent answered): outcome, state, throttle, policy. */
  outcome?: AgentOutcome;
  /** From sending the POST to the final request state on the WebSocket, measured here. */
  latencyMs: number;
}

export interface PolicyView {
  module: ModuleName;
  current: Policy;
  history: Policy[];
}

/**
 * Typed client of the control plane for notebooks, services and the JupyterLab extension. It holds
 * one realtime connection, opened on first need, through which command acks arrive.
 */
export class ControlPlaneClient {
  private realtimeReady?: Promise<RealtimeConnection>;
  private readonly finalRequests = new FinalRequests();

  private constructor(
    readonly url: string,
    private readonly transport: Transport,
    readonly token: string,
    readonly role: LoginResponse["role"],
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
    return this.post(`/api/control/module/${encodeURIComponent(module)}:${encodeURIComponent(action)}`, args);
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
    const res = await this.get<PolicyViewJson>(`/api/policy/${module}`);
    return {
      module: res.module,
      current: fromWireJson(PolicySchema, res.current),
      history: res.history.map((p) => fromWireJson(PolicySchema, p)),
    };
  }

  async request(requestId: string): Promise<ControlRequest> {
    const json = await this.get<ControlRequestJson>(`/api/control/requests/${encodeURIComponent(requestId)}`);
    return fromWireJson(ControlRequestSchema, json);
  }

  waitForRequest(requestId: string, timeoutMs: number): Promise<ControlRequest> {
    return this.finalRequests.wait(requestId, timeoutMs);
  }

  /** Starts a dataset export job on the control plane (the blueprint's scrape body). */
  scrape(body: ScrapeRequest): Promise<ScrapeAccepted> {
    return this.post("/api/datasets/scrape", body);
  }

  job(id: string): Promise<JobView> {
    return this.get(`/api/datasets/jobs/${encodeURIComponent(id)}`);
  }

  jobs(): Promise<JobList> {
    return this.get("/api/datasets/jobs");
  }

  cancelJob(id: string): Promise<JobCancelled> {
    return this.post(`/api/datasets/jobs/${encodeURIComponent(id)}/cancel`, {});
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
    return this.post("/api/clickhouse/query", { name, params });
  }

  agents(): Promise<AgentList> {
    return this.get("/api/agents");
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
      conn.listen({ onEvents: (events) => this.finalRequests.onEvents(events) });
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

  private get<T>(path: string): Promise<T> {
    return requestJson<T>(this.transport.fetch, this.url, path, { token: this.token });
  }

  private post<T = ControlAccepted>(path: string, body: unknown): Promise<T> {
    return requestJson<T>(this.transport.fetch, this.url, path, {
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
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
