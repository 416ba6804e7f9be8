import {
  ControlRequestSchema,
  PolicySchema,
  fromWireJson,
  type AgentOutcome,
  type ControlRequest,
  type Policy,
} from "@mevlab/proto";
import { ResponseError, TimeoutError } from "../errors";
import { FinalRequests } from "./final-requests";
import { requestBytes, requestJson } from "./http";
import { modelUploadBody, type ModelUpload, type ModelUploadResult } from "./models";
import type { SubscribeRequest } from "./realtime";
import type { RealtimeConnection } from "./realtime-connection";
import { AuthSession } from "./session";
import { SharedRealtime } from "./shared-realtime";
import type { Transport } from "./transport";
import type {
  ActionName,
  AgentList,
  ApiTokenCreated,
  ApiTokenList,
  ApiTokenRequest,
  ControlAccepted,
  ControlArgsJson,
  ControlRequestJson,
  CuratedQueryResult,
  Done,
  JobCancelled,
  JobList,
  JobView,
  LoginResponse,
  ModelCard,
  ModelList,
  ModelUploaded,
  ModuleName,
  PolicyUpdate,
  PolicyViewJson,
  ScrapeAccepted,
  TrainingAccepted,
  TrainingRequest,
  ScrapeRequest,
  WhoAmI,
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
 * one realtime connection, opened on first need, through which command acks arrive. Logged in, it
 * keeps its session fresh (session.ts): it stays logged in past the access token's 15 minutes.
 */
export class ControlPlaneClient {
  private readonly finalRequests = new FinalRequests();
  private readonly shared: SharedRealtime;

  private constructor(
    readonly url: string,
    private readonly transport: Transport,
    private readonly auth: AuthSession,
    readonly role: LoginResponse["role"],
  ) {
    this.shared = new SharedRealtime(
      url,
      () => auth.fresh(),
      transport.webSocket,
      (events) => this.finalRequests.onEvents(events),
    );
  }

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
      AuthSession.fromLogin(opts.transport.fetch, opts.url, res),
      res.role,
    );
  }

  /** A client of a token held already: a named API token (`MEVLAB_API_TOKEN`), not refreshed. */
  static async withToken(opts: { url: string; token: string; transport: Transport }): Promise<ControlPlaneClient> {
    const me = await requestJson<WhoAmI>(opts.transport.fetch, opts.url, "/api/auth/me", { token: opts.token });
    const auth = new AuthSession(opts.transport.fetch, opts.url, opts.token, me.expires_at);
    return new ControlPlaneClient(opts.url, opts.transport, auth, me.role);
  }

  /** The current access token (it changes at each refresh). */
  get token(): string {
    return this.auth.token;
  }

  /** The access token, refreshed first when it is about to expire (for a socket opened by hand). */
  freshToken(): Promise<string> {
    return this.auth.fresh();
  }

  get expiresAt(): number {
    return this.auth.expiresAt;
  }

  /** Told once when the session ends on its own (revoked, refresh token expired, logged out). */
  onSessionEnded(listener: (reason: string) => void): () => void {
    return this.auth.onEnded(listener);
  }

  /** Who this client's token is. */
  me(): Promise<WhoAmI> {
    return this.get("/api/auth/me");
  }

  /** Ends the session on the control plane (its tokens are refused from now on) and closes. */
  async logout(): Promise<void> {
    try {
      await this.post<Done>("/api/auth/logout", {});
    } finally {
      this.auth.stop("logged out");
      await this.close();
    }
  }

  /** A named API token for a notebook, of this user's role or below: `token` is shown only here. */
  createApiToken(request: ApiTokenRequest): Promise<ApiTokenCreated> {
    return this.post("/api/auth/tokens", request);
  }

  apiTokens(): Promise<ApiTokenList> {
    return this.get("/api/auth/tokens");
  }

  revokeApiToken(id: string): Promise<Done> {
    return this.call("DELETE", `/api/auth/tokens/${encodeURIComponent(id)}`);
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

  /** Starts a training job (the blueprint's training body); admin only. */
  startTraining(body: TrainingRequest): Promise<TrainingAccepted> {
    return this.post("/api/training/start", body);
  }

  /** A training job: state, progress, current metrics, log tail, the published model ids. */
  trainingJob(id: string): Promise<JobView> {
    return this.get(`/api/training/status/${encodeURIComponent(id)}`);
  }

  trainingJobs(): Promise<JobList> {
    return this.get("/api/training/jobs");
  }

  cancelTraining(id: string): Promise<JobCancelled> {
    return this.post(`/api/training/${encodeURIComponent(id)}/cancel`, {});
  }

  /** A published model's card (card.json), by its id (64 hex characters, as the job's `model_ids`). */
  trainingModel(id: string): Promise<ModelCard> {
    return this.get(`/api/training/models/${encodeURIComponent(id)}`);
  }

  /**
   * Puts a model into the control plane's model store (admin): a file, e.g. train()'s ModelHandle, or
   * bytes. The control plane loads it and checks it against the module's agents before it stores it.
   */
  async uploadModel(module: ModuleName, model: ModelUpload): Promise<ModelUploadResult> {
    const body = await modelUploadBody(module, model, this.transport.readFile);
    const res = await this.post<ModelUploaded>("/api/models", body);
    return { id: res.id, card: res.card, created: res.created };
  }

  /** The store's models, newest first; of one module when given. */
  listModels(module?: ModuleName): Promise<ModelList> {
    return this.get(`/api/models${module ? `?module=${encodeURIComponent(module)}` : ""}`);
  }

  /** A stored model's card, by its id (sha256, 64 hex characters). */
  modelCard(id: string): Promise<ModelCard> {
    return this.get(`/api/models/${encodeURIComponent(id)}`);
  }

  /** A stored model's bytes as stored: check them against the id before running them. */
  async modelBytes(id: string): Promise<Uint8Array> {
    const path = `/api/models/${encodeURIComponent(id)}/model.onnx`;
    const send = (token: string) => requestBytes(this.transport.fetch, this.url, path, { token });
    return this.withFreshToken(send);
  }

  /** Polls a training job until it has finished (succeeded, failed or cancelled). */
  waitForTraining(id: string, opts: { timeoutMs?: number; onUpdate?: (job: JobView) => void } = {}): Promise<JobView> {
    return this.waitForJob(id, opts, (i) => this.trainingJob(i));
  }

  /** Polls a job until it has finished (succeeded, failed or cancelled). */
  async waitForJob(
    id: string,
    opts: { timeoutMs?: number; onUpdate?: (job: JobView) => void } = {},
    read: (id: string) => Promise<JobView> = (i) => this.job(i),
  ): Promise<JobView> {
    const deadline = now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const job = await read(id);
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
    return this.shared.open(request);
  }

  /**
   * Where the realtime connection would resume: pass it to another client's `realtime` (a new login
   * of the same user) to carry on after the last event this one received.
   */
  resumePoint(): Pick<SubscribeRequest, "sinceSeq" | "epoch"> {
    return this.shared.resumePoint;
  }

  async close(): Promise<void> {
    this.auth.stop();
    await this.shared.close();
  }

  /** Any JSON route, with a fresh token (the typed methods and promotion.ts are built on it). */
  get<T>(path: string): Promise<T> {
    return this.call("GET", path);
  }

  /** Any text route (the audit log's CSV), with a fresh token; errors as get's. */
  async getText(path: string): Promise<string> {
    const send = (token: string) => requestBytes(this.transport.fetch, this.url, path, { token });
    return new TextDecoder().decode(await this.withFreshToken(send));
  }

  /** Any JSON route that changes something (admin): sent with a fresh token. */
  post<T = ControlAccepted>(path: string, body: unknown): Promise<T> {
    return this.call("POST", path, JSON.stringify(body));
  }

  private call<T>(method: string, path: string, body?: string): Promise<T> {
    return this.withFreshToken((token) =>
      requestJson<T>(this.transport.fetch, this.url, path, { method, token, ...(body === undefined ? {} : { body }) }),
    );
  }

  /** Sends with a fresh token; after a 401, the session is refreshed and the request sent once more. */
  private async withFreshToken<T>(send: (token: string) => Promise<T>): Promise<T> {
    try {
      return await send(await this.auth.fresh());
    } catch (err) {
      if (!(err instanceof ResponseError && err.status === 401) || !(await this.auth.refresh())) throw err;
      return send(this.auth.token);
    }
  }

  private async tracked(send: () => Promise<ControlAccepted>, timeoutMs = 15_000): Promise<CommandResult> {
    return (await this.trackedAccepted(send, timeoutMs)).result;
  }

  /** Sends a policy change and resolves when its request is final (every agent acked, or timeout). */
  async trackedPolicy(
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
