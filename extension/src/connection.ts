import { Signal } from "@lumino/signaling";
import { Stream, type AgentStatus, type Event } from "@mevlab/proto";
import {
  ControlPlaneClient,
  type ActionName,
  type ControlArgsJson,
  type JobView,
  type ModelCard,
  type ModuleName,
  type ScrapeRequest,
  type TrainingRequest,
  type RealtimeConnection,
  type Transport,
  type WebSocketLike,
} from "@mevlab/kernel-helpers/client";
import type { CommandOutcome, IMevlabConnection, SessionInfo } from "./tokens";

const browserTransport: Transport = {
  fetch: (url, init) => window.fetch(url, init),
  webSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike,
};

/** Holds the login, the realtime stream and the latest agent heartbeats. */
export class MevlabConnection implements IMevlabConnection {
  readonly sessionChanged: Signal<IMevlabConnection, SessionInfo | null> = new Signal(this);
  readonly events: Signal<IMevlabConnection, Event[]> = new Signal(this);
  private readonly _agents = new Map<string, AgentStatus>();
  private client: ControlPlaneClient | null = null;
  private live: RealtimeConnection | null = null;
  private _session: SessionInfo | null = null;
  notice = "";

  constructor(private url: () => string) {}

  get session(): SessionInfo | null {
    return this._session;
  }

  get agents(): ReadonlyMap<string, AgentStatus> {
    return this._agents;
  }

  async login(username: string, password: string): Promise<SessionInfo> {
    this.logout();
    const url = this.url();
    const client = await ControlPlaneClient.login({ url, username, password, transport: browserTransport });
    const live = await client.realtime({
      streams: [
        Stream.control_ack,
        Stream.agent_status,
        Stream.arb_opportunity,
        Stream.mev_opportunity,
        Stream.job,
        Stream.metrics_update,
      ],
    });
    live.listen({ onEvents: (events) => this.onEvents(events) });
    live.onClose((code, reason) => {
      if (this.live === live) this.endSession(closeNotice(code, reason));
    });
    this.client = client;
    this.live = live;
    this.notice = "";
    this._session = { url, user: username, role: client.role };
    this.sessionChanged.emit(this._session);
    return this._session;
  }

  /** Ends the session on the control plane too: its tokens are refused from now on. */
  logout(): void {
    const client = this.forget();
    if (client) {
      void client.logout().catch((err: unknown) => {
        this.notice = `logged out here; the control plane did not confirm: ${err instanceof Error ? err.message : String(err)}`;
      });
    }
  }

  /** Drops the client without a word to the control plane (its session already ended there). */
  private forget(): ControlPlaneClient | null {
    const client = this.client;
    this.client = null;
    this.live = null;
    if (this._session) {
      this._session = null;
      this.sessionChanged.emit(null);
    }
    return client;
  }

  async command(module: ModuleName, action: ActionName, args: ControlArgsJson = {}): Promise<CommandOutcome> {
    if (!this.client) return { module, action, error: "not logged in" };
    try {
      const r = await this.client.command(module, action, args);
      return { module, action, requestId: r.requestId, request: r.request, outcome: r.outcome, latencyMs: r.latencyMs };
    } catch (err) {
      return { module, action, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async scrape(body: ScrapeRequest): Promise<JobView> {
    return (await this.requireClient().scrape(body)).job;
  }

  async jobs(): Promise<JobView[]> {
    return (await this.requireClient().jobs()).jobs;
  }

  async cancelJob(id: string): Promise<JobView> {
    return (await this.requireClient().cancelJob(id)).job;
  }

  async startTraining(body: TrainingRequest): Promise<JobView> {
    return (await this.requireClient().startTraining(body)).job;
  }

  async trainingJobs(): Promise<JobView[]> {
    return (await this.requireClient().trainingJobs()).jobs;
  }

  async cancelTraining(id: string): Promise<JobView> {
    return (await this.requireClient().cancelTraining(id)).job;
  }

  trainingModel(id: string): Promise<ModelCard> {
    return this.requireClient().trainingModel(id);
  }

  controlPlane(): ControlPlaneClient {
    return this.requireClient();
  }

  private requireClient(): ControlPlaneClient {
    if (!this.client) throw new Error("not logged in");
    return this.client;
  }

  private onEvents(events: Event[]): void {
    for (const ev of events) {
      if (ev.payload.case === "agentStatus") this._agents.set(ev.payload.value.agentId, ev.payload.value);
      else if (ev.payload.case === "controlAck") {
        // The ack carries the agent's new state: show it without waiting for the next heartbeat.
        const ack = ev.payload.value;
        const known = this._agents.get(ack.agentId);
        if (known) {
          this._agents.set(ack.agentId, {
            ...known,
            state: ack.state,
            throttlePct: ack.throttlePct,
            policyVersion: ack.policyVersion,
          });
        }
      }
    }
    this.events.emit(events);
  }

  private endSession(reason: string): void {
    this.notice = reason;
    void this.forget()?.close();
  }
}

/** Why the live stream ended, as the panel says it: 4001 expired, 4003 revoked (logout elsewhere, user disabled). */
function closeNotice(code: number, reason: string): string {
  if (code === 4001) return "session expired: log in again";
  if (code === 4003) return `session ended by the control plane (${reason}): log in again`;
  return `stream closed: ${reason}`;
}
