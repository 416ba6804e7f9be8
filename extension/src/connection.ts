import { Notification } from "@jupyterlab/apputils";
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
  type SubscribeRequest,
  type RealtimeConnection,
  type Transport,
  type WebSocketLike,
} from "@mevlab/kernel-helpers/client";
import type { CommandOutcome, IMevlabConnection, LinkState, SessionInfo } from "./tokens";
import { errorText } from "./errors";

const browserTransport: Transport = {
  fetch: (url, init) => window.fetch(url, init),
  webSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike,
};

/**
 * The shared stream: acks, heartbeats, jobs, the once-a-second summary. The opportunities (thousands
 * a second) come to the live stream on a socket of its own, filtered by the control plane (live-feed.ts).
 */
const STREAMS = [Stream.control_ack, Stream.agent_status, Stream.job, Stream.metrics_update];

/** Seconds between tries to reach a control plane that went away: 1, 2, 4, 8, then every 15. */
const RETRY_S = [1, 2, 4, 8, 15];

/**
 * Holds the login, the realtime stream and the latest agent heartbeats.
 *
 * The stream that drops for any other reason than the session's end is reopened (`reconnecting`,
 * with a notice that says when the next try is) and resumes where it stopped (`since_seq`). A session
 * that ends on its own (refresh refused, revoked) becomes `expired`: the session and every panel's
 * state are kept, `expired` asks for a login, and the same user logging in again carries on where
 * they were; another user is a new session (panels reset: a viewer never sees an admin's data).
 */
export class MevlabConnection implements IMevlabConnection {
  readonly sessionChanged: Signal<IMevlabConnection, SessionInfo | null> = new Signal(this);
  readonly linkChanged: Signal<IMevlabConnection, LinkState> = new Signal(this);
  /** The session ended on its own: whoever shows the login dialog asks now. */
  readonly expired: Signal<IMevlabConnection, string> = new Signal(this);
  readonly events: Signal<IMevlabConnection, Event[]> = new Signal(this);
  private readonly _agents = new Map<string, AgentStatus>();
  private client: ControlPlaneClient | null = null;
  private live: RealtimeConnection | null = null;
  private _session: SessionInfo | null = null;
  private _link: LinkState = "none";
  /** Where an expired session's stream stopped: the new login's first stream resumes there. */
  private resumeFrom: Pick<SubscribeRequest, "sinceSeq" | "epoch"> = {};
  private retry?: ReturnType<typeof setTimeout>;
  notice = "";

  constructor(private url: () => string) {}

  get session(): SessionInfo | null {
    return this._session;
  }

  get link(): LinkState {
    return this._link;
  }

  get agents(): ReadonlyMap<string, AgentStatus> {
    return this._agents;
  }

  /**
   * Logs in. When the session had expired and the same user logs in to the same control plane, the
   * session carries on (no `sessionChanged`): the panels keep what they show.
   */
  async login(username: string, password: string): Promise<SessionInfo> {
    const url = this.url();
    const previous = this._session;
    const resumes = this._link === "expired" && previous?.user === username && previous.url === url;
    if (!resumes) this.logout();
    const client = await ControlPlaneClient.login({ url, username, password, transport: browserTransport });
    const resumed = resumes && client.role === previous?.role;
    if (resumes && !resumed) this.forget();
    this.client = client;
    client.onSessionEnded((reason) => {
      if (this.client === client) this.expire(reason);
    });
    try {
      await this.openStream(client);
    } catch (err) {
      if (this.client === client) this.client = null;
      void client.close();
      throw err;
    }
    this.notice = "";
    this.setLink("connected");
    if (!resumed) {
      this._session = { url, user: username, role: client.role };
      this.sessionChanged.emit(this._session);
    }
    return this._session!;
  }

  /** Ends the session on the control plane too: its tokens are refused from now on. */
  logout(): void {
    const client = this.forget();
    if (client) {
      void client.logout().catch((err: unknown) => {
        this.notice = `logged out here; the control plane did not confirm: ${errorText(err)}`;
      });
    }
  }

  /** Drops the client without a word to the control plane (its session already ended there). */
  private forget(): ControlPlaneClient | null {
    const client = this.client;
    this.client = null;
    this.closeStream();
    this.resumeFrom = {};
    this.setLink("none");
    if (this._session) {
      this._session = null;
      this.sessionChanged.emit(null);
    }
    return client;
  }

  /**
   * Opens the shared stream. Reopened, the client resumes it after the last event it received; a new
   * client of an expired session's user resumes where the old one stopped.
   */
  private async openStream(client: ControlPlaneClient): Promise<void> {
    const live = await client.realtime({ streams: STREAMS, ...this.resumeFrom });
    if (this.client !== client) {
      // Logged out or expired while it opened: this stream belongs to no session.
      live.close();
      throw new Error("the session ended while the stream opened");
    }
    this.resumeFrom = {};
    this.live = live;
    let told = false;
    live.listen({
      onEvents: (events) => this.onEvents(events),
      // Events this stream will not get (beyond the replay buffer, across a restart, dropped for a slow
      // page): said once per opening. A superseded one is not missed: its key's latest event follows.
      onGap: (gap) => {
        if (told || gap.reason.startsWith("superseded")) return;
        told = true;
        const what = gap.lost > 0n ? `${gap.lost} events of ${Stream[gap.stream]}` : `events of ${Stream[gap.stream]}`;
        Notification.warning(`mevlab: ${what} not received: ${gap.reason}`, { autoClose: 10_000 });
      },
    });
    live.onClose((code, reason) => {
      if (this.live !== live) return;
      this.live = null;
      // 4001: the access token expired unrefreshed; 4003: revoked (logout elsewhere, user disabled).
      if (code === 4003) this.expire(`session ended by the control plane (${reason})`);
      else this.reconnect(client, code === 4001 ? "session token expired" : `stream closed (${code} ${reason})`, 0);
    });
  }

  private closeStream(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    const live = this.live;
    this.live = null;
    live?.close();
  }

  /** Tries again after a pause that grows, saying why and when; a refused session ends it. */
  private reconnect(client: ControlPlaneClient, why: string, attempt: number): void {
    if (this.client !== client) return;
    const wait = RETRY_S[Math.min(attempt, RETRY_S.length - 1)];
    this.notice = `control plane unreachable at ${client.url}: ${why}; retrying in ${wait} s`;
    this.setLink("reconnecting");
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.openStream(client).then(
        () => {
          this.notice = "";
          this.setLink("connected");
        },
        (err: unknown) => this.reconnect(client, errorText(err), attempt + 1),
      );
    }, wait * 1000);
  }

  /** The session ended on its own: keep it on screen, say why, and ask for a login. */
  private expire(reason: string): void {
    if (!this.client || this._link === "expired") return;
    const client = this.client;
    this.client = null;
    this.resumeFrom = client.resumePoint();
    this.closeStream();
    void client.close();
    this.notice = /log in again/i.test(reason) ? reason : `${reason}: log in again to carry on`;
    this.setLink("expired");
    this.expired.emit(this.notice);
  }

  private setLink(link: LinkState): void {
    if (link === this._link && link !== "reconnecting") return;
    this._link = link;
    this.linkChanged.emit(link);
  }

  async command(module: ModuleName, action: ActionName, args: ControlArgsJson = {}): Promise<CommandOutcome> {
    if (!this.client) return { module, action, error: this._link === "expired" ? this.notice : "not logged in" };
    try {
      const r = await this.client.command(module, action, args);
      return { module, action, requestId: r.requestId, request: r.request, outcome: r.outcome, latencyMs: r.latencyMs };
    } catch (err) {
      return { module, action, error: errorText(err) };
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
    if (!this.client) throw new Error(this._link === "expired" ? this.notice : "not logged in");
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
}
