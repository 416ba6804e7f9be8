import { ControlRequestSchema, PolicySchema } from "@mevlab/proto";
import { Type, type Static } from "@sinclair/typebox";
import type { DatasetManifest } from "../data/export";
import { int64Json, protoJsonSchema } from "./proto-schema";

// The control plane's answers, defined once: it serves them as its response schemas (Fastify's
// serializer drops any field a schema does not name, and they make the OpenAPI document), and the
// client's types are derived from them, so a field cannot be added to one and not the other.

/** A string of these values, as `enum` (one clear keyword to fail, where TypeBox would nest `anyOf`s). */
export const StringEnum = <T extends string>(values: readonly T[], options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...options });

export const MODULE_NAMES = ["arbitrage", "mev"] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];
export const ACTION_NAMES = ["start", "stop", "restart", "throttle", "policy", "kill", "retry_bundle"] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Every error answer: `{ok: false, error: {code, message}}`. */
export const ErrorBody = Type.Object(
  { ok: Type.Literal(false), error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { description: "what is wrong, naming the field or the problem" },
);
export type ErrorBody = Static<typeof ErrorBody>;

const UserRole = Type.Union([Type.Literal("admin"), Type.Literal("viewer")]);

/** `POST /api/auth/login` and `POST /api/auth/refresh`. */
export const LoginResponse = Type.Object(
  {
    access_token: Type.String({ description: "JWT; send as `Authorization: Bearer <token>`" }),
    token_type: Type.Literal("Bearer"),
    role: UserRole,
    expires_in: Type.Integer({ description: "seconds" }),
    refresh_token: Type.String({
      description: "opaque; exchanged once at POST /api/auth/refresh for new tokens (a second use ends the session)",
    }),
    refresh_expires_in: Type.Integer({ description: "seconds" }),
  },
  { additionalProperties: false },
);
export type LoginResponse = Static<typeof LoginResponse>;

/** `POST /api/auth/logout` and `DELETE /api/auth/tokens/{id}`. */
export const Done = Type.Object({ ok: Type.Literal(true) }, { additionalProperties: false });
export type Done = Static<typeof Done>;

/** `GET /api/auth/me`: who the presented token is. */
export const WhoAmI = Type.Object(
  {
    user: Type.String(),
    role: UserRole,
    kind: StringEnum(["session", "api", "token"] as const, {
      description:
        "session: from a login (refreshable); api: a named API token; token: minted by the control plane's tools",
    }),
    expires_at: Type.Integer({ description: "when this token expires, ms since the epoch" }),
  },
  { additionalProperties: false },
);
export type WhoAmI = Static<typeof WhoAmI>;

/** A named API token as listed (never the token itself). */
export const ApiTokenView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: UserRole,
    created_at: Type.String({ description: "ISO 8601" }),
    expires_at: Type.String({ description: "ISO 8601" }),
    last_used_at: Type.Optional(
      Type.String({ description: "ISO 8601; updated in memory, written with the next change" }),
    ),
  },
  { additionalProperties: false },
);
export type ApiTokenView = Static<typeof ApiTokenView>;

export const ApiTokenList = Type.Object({ tokens: Type.Array(ApiTokenView) }, { additionalProperties: false });
export type ApiTokenList = Static<typeof ApiTokenList>;

/** 201 to `POST /api/auth/tokens`: the token, shown this once. */
export const ApiTokenCreated = Type.Object(
  {
    ok: Type.Literal(true),
    token: Type.String({ description: "send as `Authorization: Bearer <token>`; shown only here" }),
    api_token: ApiTokenView,
  },
  { additionalProperties: false },
);
export type ApiTokenCreated = Static<typeof ApiTokenCreated>;

/** 202: the command was recorded and published; its request record follows on the WS. */
export const ControlAccepted = Type.Object(
  {
    ok: Type.Literal(true),
    request_id: Type.String(),
    modules: Type.Array(StringEnum(MODULE_NAMES)),
    action: StringEnum(ACTION_NAMES),
    module: Type.Optional(StringEnum(MODULE_NAMES)),
    policy_version: Type.Optional(Type.Integer({ description: "the new policy version (policy changes)" })),
  },
  { additionalProperties: false },
);
export type ControlAccepted = Static<typeof ControlAccepted>;

/** `GET /api/control/requests/{id}`: the request record in the contract's JSON mapping. */
export const ControlRequestJson = protoJsonSchema(ControlRequestSchema);
export type ControlRequestJson = Static<typeof ControlRequestJson>;

const PolicyJson = protoJsonSchema(PolicySchema);

/** `GET /api/policy/{module}`: the current policy and every version, in the contract's JSON mapping. */
export const PolicyViewJson = Type.Object(
  { module: StringEnum(MODULE_NAMES), current: PolicyJson, history: Type.Array(PolicyJson) },
  { additionalProperties: false },
);
export type PolicyViewJson = Static<typeof PolicyViewJson>;

/** One agent as GET /api/agents lists it. */
export const AgentView = Type.Object(
  {
    agent_id: Type.String(),
    module: Type.String(),
    state: Type.String(),
    throttle_pct: Type.Integer(),
    policy_version: Type.String({ description: "64-bit, as a decimal string" }),
    model_id: Type.String(),
    last_seen: Type.Number({ description: "ms since the epoch" }),
    stale: Type.Boolean({ description: "no heartbeat for longer than three intervals" }),
    commands_applied: Type.String({
      description: "64-bit, as a decimal string; counted inside the agent: commands applied since it first started",
    }),
    boot_id: Type.String({ description: "the agent process's run: a new id after every restart" }),
    started_at: Type.Number({ description: "when that run started, ms since the epoch" }),
  },
  { additionalProperties: false },
);
export type AgentView = Static<typeof AgentView>;

export const AgentList = Type.Object({ agents: Type.Array(AgentView) }, { additionalProperties: false });
export type AgentList = Static<typeof AgentList>;

export const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** An object of any fields, or null. */
const objectOrNull = <T>(description: string) =>
  Type.Union([Type.Unsafe<T>(Type.Object({}, { additionalProperties: true })), Type.Null()], { description });

/**
 * A job as the control plane shows it: the contract's Job message in its JSON mapping (64-bit counters
 * as strings, empty fields left out), with its params and manifest as objects. A test holds it to the
 * message's fields.
 */
export const JobView = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ description: "dataset_export, training" }),
    state: StringEnum(JOB_STATES),
    created_by: Type.Optional(Type.String()),
    created_at: Type.Optional(int64Json("unix ms")),
    started_at: Type.Optional(int64Json("unix ms")),
    finished_at: Type.Optional(int64Json("unix ms")),
    phase: Type.Optional(Type.String({ description: "write, hash, upload, manifest, done" })),
    fraction: Type.Optional(Type.Number({ description: "0..1" })),
    rows: Type.Optional(int64Json()),
    bytes: Type.Optional(int64Json()),
    files_done: Type.Optional(Type.Integer()),
    files_total: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String()),
    output: Type.Optional(Type.String({ description: "a directory or s3://bucket/prefix" })),
    dataset_id: Type.Optional(Type.String({ description: "sha256:<hex> of manifest.json, once succeeded" })),
    params: objectOrNull<Record<string, unknown>>("the accepted request, normalised"),
    manifest: objectOrNull<DatasetManifest>("manifest.json, once succeeded"),
    model_ids: Type.Optional(Type.Array(Type.String(), { description: "training: the published models' sha256" })),
    model: Type.Optional(Type.String({ description: "training: the model being trained (xgb, lgbm, torch)" })),
    iteration: Type.Optional(Type.Integer({ description: "training: its boosting round or epoch" })),
    total: Type.Optional(Type.Integer({ description: "training: the most rounds or epochs it runs" })),
    metrics: objectOrNull<TrainingMetrics>("training: the last iteration's train and valid metrics"),
    log_tail: Type.Optional(Type.Array(Type.String(), { description: "training: the trainer's last log lines" })),
    error_code: Type.Optional(Type.String({ description: "training: the trainer's error code" })),
  },
  { additionalProperties: false },
);
export type JobView = Static<typeof JobView>;

/** A training job's current metrics, as the trainer's `iteration` event gives them. */
export interface TrainingMetrics {
  train?: { logloss?: number | null };
  valid?: { logloss?: number | null; auc?: number | null };
}

/** The body of `POST /api/training/start` (the blueprint's; the control plane's schema checks it). */
export interface TrainingRequest {
  module: "arbitrage" | "mev" | "arb";
  range: { from: string | number; to: string | number };
  features?: string | string[];
  model?: "xgb" | "lgbm" | "torch" | Array<"xgb" | "lgbm" | "torch">;
  gpu?: boolean | "auto";
  params?: Record<string, number | string>;
  target?: string;
}

/** A split's metrics in a model card (null where a metric does not exist, e.g. AUC of one class). */
export interface SplitMetrics {
  rows?: number;
  auc?: number | null;
  logloss?: number | null;
  brier?: number | null;
}

/**
 * A model card (`card.json`, docs/training.md "Card"), as `GET /api/training/models/{id}` returns it.
 * The fields the panel reads are typed; the card has more (onnx, parity, versions, git, …).
 */
export const ModelCard = Type.Object(
  {
    kind: Type.Literal("mevlab.model"),
    card_version: Type.Integer(),
    id: Type.String({ description: "sha256 (hex) of model.onnx" }),
    model: Type.String({ description: "xgb, lgbm, torch" }),
    created_at: Type.Optional(Type.String()),
    module: Type.Optional(Type.String()),
    feature_set: Type.Optional(Type.String()),
    features: Type.Optional(Type.Array(Type.String())),
    target: Type.Optional(Type.String()),
    device: Type.Optional(Type.String()),
    training_seconds: Type.Optional(Type.Number()),
    params: objectOrNull<Record<string, unknown>>("the parameters used"),
    dataset: objectOrNull<{ id?: string; rows?: number }>("where the rows came from"),
    metrics: objectOrNull<Partial<Record<"train" | "valid" | "test", SplitMetrics>>>("per split"),
  },
  { additionalProperties: true },
);
export type ModelCard = Static<typeof ModelCard>;

/** A model of the store as `GET /api/models` lists it: what its card says, and its size. */
export const ModelSummary = Type.Object(
  {
    id: Type.String({ description: "sha256 (hex) of model.onnx" }),
    module: Type.String({ description: "arbitrage, mev: the agents that may run it" }),
    model: Type.String({ description: "xgb, lgbm, torch, or what an uploaded card says" }),
    created_at: Type.String({ description: "ISO 8601: when it was trained (the card's), else stored" }),
    bytes: Type.Integer({ description: "the size of model.onnx" }),
    features: Type.Array(Type.String(), { description: "the input's columns, in order" }),
    metrics: Type.Optional(
      Type.Unsafe<Partial<Record<"train" | "valid" | "test", SplitMetrics>>>(
        Type.Object({}, { additionalProperties: true, description: "the card's metrics per split" }),
      ),
    ),
  },
  { additionalProperties: false },
);
export type ModelSummary = Static<typeof ModelSummary>;

/** `GET /api/models`: newest first. */
export const ModelList = Type.Object({ models: Type.Array(ModelSummary) }, { additionalProperties: false });
export type ModelList = Static<typeof ModelList>;

/** 201 (stored now) or 200 (the same bytes were there already: their card is kept) to `POST /api/models`. */
export const ModelUploaded = Type.Object(
  {
    ok: Type.Literal(true),
    id: Type.String({ description: "sha256 (hex) of the bytes, computed by the control plane" }),
    created: Type.Boolean({ description: "false when the store held these bytes already" }),
    card: ModelCard,
  },
  { additionalProperties: false },
);
export type ModelUploaded = Static<typeof ModelUploaded>;

/** 202 to `POST /api/training/start`. */
export const TrainingAccepted = Type.Object(
  { ok: Type.Literal(true), job_id: Type.String(), output: Type.String(), job: JobView },
  { additionalProperties: false },
);
export type TrainingAccepted = Static<typeof TrainingAccepted>;

/** 202 to `POST /api/datasets/scrape`. */
export const ScrapeAccepted = Type.Object(
  { ok: Type.Literal(true), job_id: Type.String(), output: Type.String(), job: JobView },
  { additionalProperties: false },
);
export type ScrapeAccepted = Static<typeof ScrapeAccepted>;

export const JobList = Type.Object({ jobs: Type.Array(JobView) }, { additionalProperties: false });
export type JobList = Static<typeof JobList>;

/** 202 to `POST /api/datasets/jobs/{id}/cancel`. */
export const JobCancelled = Type.Object({ ok: Type.Literal(true), job: JobView }, { additionalProperties: false });
export type JobCancelled = Static<typeof JobCancelled>;

/** Where named queries run. */
export const QuerySource = StringEnum(["clickhouse", "local"]);

/** `POST /api/clickhouse/query`: a named query's result. */
export const CuratedQueryResult = Type.Object(
  {
    ok: Type.Literal(true),
    name: Type.String(),
    source: QuerySource,
    params: Type.Record(Type.String(), Type.Unknown(), { description: "the parameters bound, defaults included" }),
    columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() }, { additionalProperties: false })),
    rows: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
      description: "one object per row; 64-bit integers beyond 2^53 as strings, times as ISO text",
    }),
    row_count: Type.Integer(),
    elapsed_ms: Type.Number(),
  },
  { additionalProperties: false },
);
export type CuratedQueryResult = Static<typeof CuratedQueryResult>;

// Request bodies: the control plane's body schemas, with its validation wording and alias names, say
// what it accepts (an unknown field is refused with 400, never dropped); these are what the client sends.

/** The blueprint's control body. */
export interface ControlArgsJson {
  throttle_pct?: number;
  ev_min?: number;
  tip_ladder?: number[];
  kill?: boolean;
  bundle_id?: string;
  tip_lamports?: number | string;
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

/** `POST /api/auth/tokens`: a named token for a notebook, of the caller's role or below. */
export interface ApiTokenRequest {
  name: string;
  role?: "admin" | "viewer";
  /** 1-365, default 90. */
  expires_in_days?: number;
}

/** `POST /api/models`: a model's bytes for the store, and its card (the control plane fills in id, module, features). */
export interface ModelUploadRequest {
  module: ModuleName;
  onnx_base64: string;
  card?: Record<string, unknown>;
}
