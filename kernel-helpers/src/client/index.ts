export { AckOutcome, Action, ControlRequest_State } from "@mevlab/proto";
export * from "./http";
export * from "./transport";
export * from "./realtime";
export * from "./realtime-connection";
export * from "./control-plane";
export * from "./metrics";
export type { ModelUpload, ModelUploadResult } from "./models";
// Types only: the wire schemas themselves (TypeBox, for the control plane) stay out of browser bundles.
export type {
  ActionName,
  AgentList,
  AgentView,
  ApiTokenCreated,
  ApiTokenList,
  ApiTokenRequest,
  ApiTokenView,
  ControlAccepted,
  ControlArgsJson,
  ControlRequestJson,
  CuratedQueryResult,
  Done,
  ErrorBody,
  JobCancelled,
  JobList,
  JobState,
  JobView,
  LoginResponse,
  ModelCard,
  ModelList,
  ModelSummary,
  ModelUploaded,
  ModelUploadRequest,
  ModuleName,
  PolicyUpdate,
  PolicyViewJson,
  ScrapeAccepted,
  ScrapeRequest,
  SplitMetrics,
  TrainingAccepted,
  TrainingMetrics,
  TrainingRequest,
  WhoAmI,
} from "./wire";
export * from "./policy-rules";
export * from "./model-features";
export * from "./promotion";
export type { LineageModel, LineageView, ShadowView } from "./wire-promotion";
export type { MetricsHistory } from "./wire-metrics";
