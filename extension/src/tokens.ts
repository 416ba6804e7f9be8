import { Token } from "@lumino/coreutils";
import type { ISignal } from "@lumino/signaling";
import type { AgentOutcome, AgentStatus, ControlRequest, Event } from "@mevlab/proto";
import type {
  ActionName,
  ControlArgsJson,
  ControlPlaneClient,
  JobView,
  ModelCard,
  ModuleName,
  ScrapeRequest,
  TrainingRequest,
} from "@mevlab/kernel-helpers/client";

export interface SessionInfo {
  url: string;
  user: string;
  role: "admin" | "viewer";
}

/** The outcome of a command as the panel shows it. */
export interface CommandOutcome {
  module: ModuleName;
  action: ActionName;
  requestId?: string;
  request?: ControlRequest;
  outcome?: AgentOutcome;
  latencyMs?: number;
  error?: string;
}

/**
 * The realtime link of a session: `connected`; `reconnecting` while the control plane cannot be
 * reached (retried, the notice says when); `expired` when the session ended on its own (it stays on
 * screen until someone logs in again); `none` when logged out.
 */
export type LinkState = "connected" | "reconnecting" | "expired" | "none";

/** The connection to the control plane shared by every mevlab panel. */
export interface IMevlabConnection {
  readonly session: SessionInfo | null;
  /** A new session or none: panels reset what they show. Not emitted when an expired session resumes. */
  readonly sessionChanged: ISignal<IMevlabConnection, SessionInfo | null>;
  readonly link: LinkState;
  readonly linkChanged: ISignal<IMevlabConnection, LinkState>;
  /** The session ended on its own (the notice says why): a login by the same user carries it on. */
  readonly expired: ISignal<IMevlabConnection, string>;
  /**
   * Live events (acks, agent status, jobs, the metrics summary), in batches. Opportunities come to the
   * live stream on a socket of its own.
   */
  readonly events: ISignal<IMevlabConnection, Event[]>;
  readonly agents: ReadonlyMap<string, AgentStatus>;
  /** Why the session ended or the link is down (expiry, control plane unreachable and when the next try is). */
  readonly notice: string;
  login(username: string, password: string): Promise<SessionInfo>;
  logout(): void;
  command(module: ModuleName, action: ActionName, args?: ControlArgsJson): Promise<CommandOutcome>;
  /** Starts a dataset export job; rejects with the control plane's message (4xx) when refused. */
  scrape(body: ScrapeRequest): Promise<JobView>;
  jobs(): Promise<JobView[]>;
  cancelJob(id: string): Promise<JobView>;
  /** Starts a training job; rejects with the control plane's message (4xx) when refused. */
  startTraining(body: TrainingRequest): Promise<JobView>;
  trainingJobs(): Promise<JobView[]>;
  cancelTraining(id: string): Promise<JobView>;
  /** A published model's card, by its id (a training job's `model_ids`). */
  trainingModel(id: string): Promise<ModelCard>;
  /** The session's client, for panels that call routes this interface does not wrap; throws when logged out. */
  controlPlane(): ControlPlaneClient;
}

export const IMevlabConnection = new Token<IMevlabConnection>(
  "@mevlab/extension:IMevlabConnection",
  "The logged-in connection to the mevlab control plane: commands and live events.",
);
