import type { DescMessage } from "@bufbuild/protobuf";
import { AgentStatusSchema, ControlAckSchema, ControlCommandSchema, PolicySchema } from "./gen/mevlab/v1/control_pb";
import {
  ArbOpportunitySchema,
  BundleOutcomeSchema,
  MetricsUpdateSchema,
  MevOpportunitySchema,
} from "./gen/mevlab/v1/market_pb";

/** One Kafka topic of the contract. TOPICS.md is the prose form of this table. */
export interface TopicSpec<S extends DescMessage = DescMessage> {
  readonly name: string;
  readonly schema: S;
  /** What the record key holds; order is kept per key. */
  readonly key: "module" | "agent_id" | "slot" | "bundle_id";
  readonly compacted: boolean;
  readonly partitions: number;
  readonly retentionMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function topic<S extends DescMessage>(spec: TopicSpec<S>): TopicSpec<S> {
  return spec;
}

export const TOPICS = {
  controlCommands: topic({
    name: "control-commands",
    schema: ControlCommandSchema,
    key: "module",
    compacted: false,
    partitions: 2,
    retentionMs: 7 * DAY,
  }),
  controlAcks: topic({
    name: "control-acks",
    schema: ControlAckSchema,
    key: "module",
    compacted: false,
    partitions: 2,
    retentionMs: 7 * DAY,
  }),
  agentStatus: topic({
    name: "agent-status",
    schema: AgentStatusSchema,
    key: "agent_id",
    compacted: true,
    partitions: 1,
    retentionMs: DAY,
  }),
  policies: topic({
    name: "policies",
    schema: PolicySchema,
    key: "module",
    compacted: true,
    partitions: 1,
    retentionMs: -1,
  }),
  arbOpportunities: topic({
    name: "arb-opportunities",
    schema: ArbOpportunitySchema,
    key: "slot",
    compacted: false,
    partitions: 3,
    retentionMs: 3 * DAY,
  }),
  mevOpportunities: topic({
    name: "mev-opportunities",
    schema: MevOpportunitySchema,
    key: "slot",
    compacted: false,
    partitions: 3,
    retentionMs: 3 * DAY,
  }),
  bundleOutcomes: topic({
    name: "bundle-outcomes",
    schema: BundleOutcomeSchema,
    key: "bundle_id",
    compacted: false,
    partitions: 3,
    retentionMs: 3 * DAY,
  }),
  agentMetrics: topic({
    name: "agent-metrics",
    schema: MetricsUpdateSchema,
    key: "agent_id",
    compacted: false,
    partitions: 1,
    retentionMs: DAY,
  }),
} as const;

export type TopicId = keyof typeof TOPICS;

export const ALL_TOPICS: readonly TopicSpec[] = Object.values(TOPICS);

/** Header every record carries: the schema version of its value. */
export const SCHEMA_VERSION_HEADER = "mevlab-schema-version";
export const SCHEMA_VERSION = 1;

/**
 * Whether a record's headers declare a schema major version this code reads: the header is `<major>`
 * or `<major>.<minor>`, and only the major counts. A record without the header is taken as the
 * current version, so producers that set no headers (other languages' clients) still work; a header
 * that is not such a number is unknown.
 */
export function readsSchemaVersion(headers: Readonly<Record<string, string | undefined>>): boolean {
  const value = headers[SCHEMA_VERSION_HEADER];
  if (value === undefined) return true;
  const match = /^(\d+)(?:\.\d+)?$/.exec(value);
  return match !== null && Number(match[1]) === SCHEMA_VERSION;
}
