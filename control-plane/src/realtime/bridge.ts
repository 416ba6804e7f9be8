import { randomUUID } from "node:crypto";
import { Module, Stream, TOPICS, decode, type ControlAck, type ArbOpportunity } from "@mevlab/proto";
import type { Bus, BusRecord, Subscription } from "@mevlab/kernel-helpers";
import type { AgentRegistry } from "../agents/registry";
import type { RollingMetrics } from "../metrics/rolling";
import type { EventSink } from "../sink/sink";
import { ACK_TABLE, ARB_TABLE, MEV_TABLE, METRICS_TABLE, OUTCOME_TABLE } from "../sink/tables";
import type { RealtimeHub } from "./hub";

type Route = (record: BusRecord) => void;

export interface BridgeDeps {
  bus: Bus;
  hub: RealtimeHub;
  registry: AgentRegistry;
  rolling: RollingMetrics;
  sink?: EventSink;
  onAck: (ack: ControlAck) => void;
  instanceId: string;
  log: (msg: string) => void;
}

const dexesOf = (o: ArbOpportunity): string[] => o.route.map((h) => h.dex.toLowerCase());

/**
 * Consumes the agents' topics and feeds the realtime hub, the agent registry, the request tracker,
 * the rolling metrics and the event sink. Groups are per control-plane instance, so every replica
 * sees every event.
 */
export async function bridgeBusToHub(deps: BridgeDeps): Promise<Subscription[]> {
  const { hub, registry, rolling, sink } = deps;
  const guarded =
    (routes: Map<string, Route>) =>
    async (record: BusRecord): Promise<void> => {
      rolling.countEvents(record.topic);
      try {
        routes.get(record.topic)?.(record);
      } catch (err) {
        // One corrupt record must not stop the stream; it is reported and skipped.
        deps.log(`skipping undecodable record ${record.topic}@${record.offset}: ${String(err)}`);
      }
    };
  const acks = new Map<string, Route>([
    [
      TOPICS.controlAcks.name,
      (r) => {
        const ack = decode(TOPICS.controlAcks.schema, r.value);
        hub.publish(Stream.control_ack, ack.module, { case: "controlAck", value: ack });
        registry.applyAck(ack);
        deps.onAck(ack);
        sink?.add(ACK_TABLE, ack);
      },
    ],
  ]);
  const routes = new Map<string, Route>([
    [
      TOPICS.agentStatus.name,
      (r) => {
        const status = decode(TOPICS.agentStatus.schema, r.value);
        registry.update(status);
        hub.publish(
          Stream.agent_status,
          status.module,
          { case: "agentStatus", value: status },
          { coalesceKey: `status:${status.agentId}` },
        );
      },
    ],
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
            raw: { field: 5, bytes: new Uint8Array(r.value) },
          },
        );
        sink?.add(ARB_TABLE, value);
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
            raw: { field: 6, bytes: new Uint8Array(r.value) },
          },
        );
        sink?.add(MEV_TABLE, value);
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
          { raw: { field: 7, bytes: new Uint8Array(r.value) } },
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
  // Acks resume from this instance's committed position after a restart, so pending requests are
  // resolved; live events start from now under a fresh group. Both groups are this process's alone.
  return Promise.all([
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
