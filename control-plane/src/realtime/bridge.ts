import { Module, Stream, TOPICS, decode } from "@mevlab/proto";
import type { Bus, BusRecord, Subscription } from "@mevlab/kernel-helpers";
import type { AgentRegistry } from "../agents/registry";
import type { RealtimeHub } from "./hub";

type Route = (record: BusRecord) => void;

/**
 * Consumes the agents' topics and feeds the realtime hub and the agent registry, with one consumer
 * for all of them. The group is unique per control-plane instance, so every replica sees every event.
 */
export function bridgeBusToHub(
  bus: Bus,
  hub: RealtimeHub,
  registry: AgentRegistry,
  instanceId: string,
  log: (msg: string) => void,
): Promise<Subscription> {
  const routes = new Map<string, Route>([
    [
      TOPICS.controlAcks.name,
      (r) => {
        const ack = decode(TOPICS.controlAcks.schema, r.value);
        hub.publish(Stream.control_ack, ack.module, { case: "controlAck", value: ack });
      },
    ],
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
  return bus.subscribe({ topics: [...routes.keys()], group: `control-plane-${instanceId}` }, async (record) => {
    try {
      routes.get(record.topic)?.(record);
    } catch (err) {
      // One corrupt record must not stop the stream; it is reported and skipped.
      log(`skipping undecodable record ${record.topic}@${record.offset}: ${String(err)}`);
    }
  });
}
