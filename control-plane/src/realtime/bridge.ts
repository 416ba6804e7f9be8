import { randomUUID } from "node:crypto";
import { Module, Stream, TOPICS, decode, type ControlAck } from "@mevlab/proto";
import type { Bus, BusRecord, Subscription } from "@mevlab/kernel-helpers";
import type { AgentRegistry } from "../agents/registry";
import type { RealtimeHub } from "./hub";

type Route = (record: BusRecord) => void;

/**
 * Consumes the agents' topics and feeds the realtime hub, the agent registry and the request
 * tracker. Groups are per control-plane instance, so every replica sees every event.
 */
export async function bridgeBusToHub(
  bus: Bus,
  hub: RealtimeHub,
  registry: AgentRegistry,
  onAck: (ack: ControlAck) => void,
  instanceId: string,
  log: (msg: string) => void,
): Promise<Subscription[]> {
  const guarded =
    (routes: Map<string, Route>) =>
    async (record: BusRecord): Promise<void> => {
      try {
        routes.get(record.topic)?.(record);
      } catch (err) {
        // One corrupt record must not stop the stream; it is reported and skipped.
        log(`skipping undecodable record ${record.topic}@${record.offset}: ${String(err)}`);
      }
    };
  const acks = new Map<string, Route>([
    [
      TOPICS.controlAcks.name,
      (r) => {
        const ack = decode(TOPICS.controlAcks.schema, r.value);
        hub.publish(Stream.control_ack, ack.module, { case: "controlAck", value: ack });
        registry.applyAck(ack);
        onAck(ack);
      },
    ],
  ]);
  const routes = new Map<string, Route>([
    [
      TOPICS.agentStatus.name,
      (r) => {
        const status = decode(TOPICS.agentStatus.schema, r.value);
        registry.update(status);
        hub.publish(Stream.agent_status, status.module, { case: "agentStatus", value: status });
      },
    ],
    [
      TOPICS.arbOpportunities.name,
      (r) => {
        const value = decode(TOPICS.arbOpportunities.schema, r.value);
        hub.publish(Stream.arb_opportunity, Module.arbitrage, { case: "arbOpportunity", value });
      },
    ],
    [
      TOPICS.mevOpportunities.name,
      (r) => {
        const value = decode(TOPICS.mevOpportunities.schema, r.value);
        hub.publish(Stream.mev_opportunity, Module.mev, { case: "mevOpportunity", value });
      },
    ],
    [
      TOPICS.bundleOutcomes.name,
      (r) => {
        const value = decode(TOPICS.bundleOutcomes.schema, r.value);
        hub.publish(Stream.bundle_outcome, value.module, { case: "bundleOutcome", value });
      },
    ],
    [
      TOPICS.agentMetrics.name,
      (r) => {
        const value = decode(TOPICS.agentMetrics.schema, r.value);
        hub.publish(Stream.metrics_update, value.module, { case: "metricsUpdate", value });
      },
    ],
  ]);
  // Acks resume from this instance's committed position after a restart, so pending requests are
  // resolved; live events start from now under a fresh group.
  return Promise.all([
    bus.subscribe({ topics: [...acks.keys()], group: `control-plane-acks-${instanceId}` }, guarded(acks)),
    bus.subscribe(
      { topics: [...routes.keys()], group: `control-plane-${instanceId}-${randomUUID()}` },
      guarded(routes),
    ),
  ]);
}
