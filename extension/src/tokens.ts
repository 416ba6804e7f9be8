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

/** The connection to the control plane shared by every mevlab panel. */
export interface IMevlabConnection {
  readonly session: SessionInfo | null;
  readonly sessionChanged: ISignal<IMevlabConnection, SessionInfo | null>;
  /** Live events (acks, agent status, opportunities), in batches. */
  readonly events: ISignal<IMevlabConnection, Event[]>;
  readonly agents: ReadonlyMap<string, AgentStatus>;
  /** Why the last session ended, when it ended on its own (expiry, control plane gone). */
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
