import { randomUUID } from "node:crypto";
import {
  EventSchema,
  Module,
  Stream,
  TOPICS,
  decode,
  readsSchemaVersion,
  type ArbOpportunity,
  type MevOpportunity,
  type BusProblem,
  type ControlAck,
} from "@mevlab/proto";
import {
  partitionOfKey,
  schemaVersionError,
  type AgentMacVerifier,
  type Bus,
  type BusRecord,
  type Subscription,
} from "@mevlab/kernel-helpers";
import type { AgentRegistry } from "../agents/registry";
import type { RollingMetrics } from "../metrics/rolling";
import type { EventSink } from "../sink/sink";
import { ACK_TABLE, ARB_TABLE, MEV_TABLE, METRICS_TABLE, OUTCOME_TABLE } from "../sink/tables";
import { fieldNumber, type RealtimeHub } from "./hub";

type Route = (record: BusRecord) => void;

export interface BridgeDeps {
  bus: Bus;
  hub: RealtimeHub;
  registry: AgentRegistry;
  rolling: RollingMetrics;
  sink?: EventSink;
  onAck: (ack: ControlAck) => void;
  /** Each opportunity, decoded (the shadow comparison). */
  onOpportunity?: (module: "arbitrage" | "mev", o: ArbOpportunity | MevOpportunity) => void;
  /** Acks and statuses count only when their agent_mac verifies (proto/TOPICS.md, "Signatures"). */
  agents: AgentMacVerifier;
  instanceId: string;
  log: (msg: string) => void;
}

const dexesOf = (o: ArbOpportunity): string[] => o.route.map((h) => h.dex.toLowerCase());

/** The Event fields the bus's bytes are passed through as (hub `raw`), from the generated descriptor. */
const RAW_FIELD = {
  arbOpportunity: fieldNumber(EventSchema, "arbOpportunity"),
  mevOpportunity: fieldNumber(EventSchema, "mevOpportunity"),
  bundleOutcome: fieldNumber(EventSchema, "bundleOutcome"),
};

type Problem = Pick<BusProblem, "reason" | "message"> &
  Partial<Pick<BusProblem, "expectedPartition" | "schemaVersion" | "requestId">>;

/**
 * Counts a record nobody will act on and, for the first ten of its topic and reason and then every
 * 1000th, logs it and reports it on the realtime stream `bus_problem`.
 */
function reportProblem(deps: BridgeDeps, record: BusRecord, problem: Problem): void {
  const count = deps.rolling.skipped.note(record.topic, problem.reason);
  if (count === undefined) return;
  const partition = record.partition ?? -1;
  const where = `${record.topic}${partition >= 0 ? `/${partition}` : ""}@${record.offset}`;
  deps.log(`${where} (key ${JSON.stringify(record.key)}): ${problem.message} [${problem.reason}: ${count} so far]`);
  const module = record.topic === TOPICS.controlCommands.name ? moduleOf(record.key) : Module.MODULE_UNSPECIFIED;
  deps.hub.publish(Stream.bus_problem, module, {
    case: "busProblem",
    value: {
      expectedPartition: -1,
      ...problem,
      ts: BigInt(Date.now()),
      topic: record.topic,
      key: record.key,
      count,
      partition,
      offset: record.offset,
    },
  });
}

function moduleOf(key: string): Module {
  const m = (Module as unknown as Record<string, Module | undefined>)[key];
  return typeof m === "number" ? m : Module.MODULE_UNSPECIFIED;
}

/**
 * Kafka only: reads every partition of control-commands (a group of its own, from the end) and
 * reports a command on a partition its key does not map to, which no agent reads: its producer does
 * not partition as Kafka's default partitioner does. The local bus and the link have no partitions.
 */
function watchCommandPartitions(deps: BridgeDeps): Promise<Subscription> {
  const spec = TOPICS.controlCommands;
  return deps.bus.subscribe(
    { topics: [spec.name], group: `control-plane-commands-${deps.instanceId}-${randomUUID()}`, exclusive: true },
    async (record) => {
      if (record.partition === undefined) return;
      const expected = partitionOfKey(record.key, spec.partitions);
      if (record.partition === expected) return;
      reportProblem(deps, record, {
        reason: "misrouted",
        message:
          `a command on partition ${record.partition}, but its key maps to partition ${expected} (murmur2, ` +
          `Kafka's default partitioner): no agent reads it. Its producer must partition keys with murmur2 ` +
          `(librdkafka: partitioner=murmur2_random)`,
        expectedPartition: expected,
        requestId: requestIdOf(record),
      });
    },
  );
}

/** The command's request_id, to match the report with a request; "" when its value is not readable. */
function requestIdOf(record: BusRecord): string {
  if (!readsSchemaVersion(record.headers)) return "";
  try {
    return decode(TOPICS.controlCommands.schema, record.value).requestId;
  } catch {
    return ""; // still reported as misrouted, without a request id
  }
}

/**
 * Consumes the agents' topics and feeds the realtime hub, the agent registry, the request tracker,
 * the rolling metrics and the event sink. Groups are per control-plane instance, so every replica
 * sees every event.
 */
export async function bridgeBusToHub(deps: BridgeDeps): Promise<Subscription[]> {
  const { rolling } = deps;
  const guarded =
    (routes: Map<string, Route>) =>
    async (record: BusRecord): Promise<void> => {
      rolling.countEvents(record.topic);
      // Refused before decoding: bytes of another major may decode into something else entirely.
      const unknown = schemaVersionError(record);
      if (unknown) {
        reportProblem(deps, record, {
          reason: "schema_version",
          message: unknown.message,
          schemaVersion: unknown.version,
        });
        return;
      }
      try {
        routes.get(record.topic)?.(record);
      } catch (err) {
        // One corrupt record must not stop the stream; it is reported and skipped.
        deps.log(`skipping undecodable record ${record.topic}@${record.offset}: ${String(err)}`);
      }
    };
  const acks = ackRoutes(deps);
  const routes = eventRoutes(deps);
  // Acks resume from this instance's committed position after a restart, so pending requests are
  // resolved; live events start from now under a fresh group. Both groups are this process's alone.
  return Promise.all([
    ...(deps.bus.kind === "kafka" ? [watchCommandPartitions(deps)] : []),
    deps.bus.subscribe(
      { topics: [...acks.keys()], group: `control-plane-acks-${deps.instanceId}`, exclusive: true },
      guarded(acks),
    ),
    deps.bus.subscribe(
      { topics: [...routes.keys()], group: `control-plane-${deps.instanceId}-${randomUUID()}`, exclusive: true },
      guarded(routes),
    ),
  ]);
}

/** The acks: to the hub, the registry, the request tracker and the sink. */
function ackRoutes(deps: BridgeDeps): Map<string, Route> {
  const { hub, registry, sink } = deps;
  return new Map<string, Route>([
    [
      TOPICS.controlAcks.name,
      (r) => {
        const ack = decode(TOPICS.controlAcks.schema, r.value);
        const forged = deps.agents.ack(ack);
        if (forged) {
          const message = `ack of '${ack.agentId}' for ${ack.requestId || "no request"} ignored: ${forged}`;
          return reportProblem(deps, r, { reason: "unauthenticated", message, requestId: ack.requestId });
        }
        hub.publish(Stream.control_ack, ack.module, { case: "controlAck", value: ack });
        registry.applyAck(ack);
        deps.onAck(ack);
        sink?.add(ACK_TABLE, ack);
      },
    ],
  ]);
}

/** An agent's heartbeat, once its agent_mac verifies: to the registry and the hub. */
function statusRoute(deps: BridgeDeps): Route {
  return (r) => {
    const status = decode(TOPICS.agentStatus.schema, r.value);
    const forged = deps.agents.status(status);
    if (forged) {
      const message = `status of '${status.agentId}' ignored: ${forged} (no agent of that id holds a credential)`;
      return reportProblem(deps, r, { reason: "unauthenticated", message });
    }
    deps.registry.update(status);
    deps.hub.publish(
      Stream.agent_status,
      status.module,
      { case: "agentStatus", value: status },
      { coalesceKey: `status:${status.agentId}` },
    );
  };
}

/** The agents' events: status, opportunities, outcomes and metrics, to the hub, registry, metrics and sink. */
function eventRoutes(deps: BridgeDeps): Map<string, Route> {
  const { hub, rolling, sink } = deps;
  return new Map<string, Route>([
    [TOPICS.agentStatus.name, statusRoute(deps)],
    [
      TOPICS.arbOpportunities.name,
      (r) => {
        const value = decode(TOPICS.arbOpportunities.schema, r.value);
        hub.publish(
          Stream.arb_opportunity,
          Module.arbitrage,
          { case: "arbOpportunity", value },
          {
            dexes: dexesOf(value),
            netSol: value.profit?.netSol ?? 0,
            raw: { field: RAW_FIELD.arbOpportunity, bytes: new Uint8Array(r.value) },
          },
        );
        sink?.add(ARB_TABLE, value);
        deps.onOpportunity?.("arbitrage", value);
      },
    ],
    [
      TOPICS.mevOpportunities.name,
      (r) => {
        const value = decode(TOPICS.mevOpportunities.schema, r.value);
        hub.publish(
          Stream.mev_opportunity,
          Module.mev,
          { case: "mevOpportunity", value },
          {
            dexes: [value.dex.toLowerCase()],
            netSol: value.profit?.netSol ?? 0,
            raw: { field: RAW_FIELD.mevOpportunity, bytes: new Uint8Array(r.value) },
          },
        );
        sink?.add(MEV_TABLE, value);
        deps.onOpportunity?.("mev", value);
      },
    ],
    [
      TOPICS.bundleOutcomes.name,
      (r) => {
        const value = decode(TOPICS.bundleOutcomes.schema, r.value);
        hub.publish(
          Stream.bundle_outcome,
          value.module,
          { case: "bundleOutcome", value },
          { raw: { field: RAW_FIELD.bundleOutcome, bytes: new Uint8Array(r.value) } },
        );
        sink?.add(OUTCOME_TABLE, value);
      },
    ],
    [
      TOPICS.agentMetrics.name,
      (r) => {
        const value = decode(TOPICS.agentMetrics.schema, r.value);
        rolling.observe(value);
        hub.publish(
          Stream.agent_metrics,
          value.module,
          { case: "agentMetrics", value },
          { coalesceKey: `metrics:${value.agentId}` },
        );
        sink?.add(METRICS_TABLE, value);
      },
    ],
  ]);
}
