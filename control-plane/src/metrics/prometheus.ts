import { LATENCY_BOUNDS_US } from "@mevlab/kernel-helpers";
import { Module, Stream } from "@mevlab/proto";
import { Registry } from "prom-client";
import type { HubStats } from "../realtime/hub";
import { mirrorCounter, mirrorGauge, mirrorHistogram, type Sample } from "./mirror";
import type { ModuleTotals, RollingMetrics } from "./rolling";

export interface PrometheusSources {
  rolling: RollingMetrics;
  hub: () => HubStats;
  sink?: () => { spoolBytes: number; spoolSegments: number; failures: bigint; lastError: string; kind: string };
  requests?: () => Record<string, number>;
}

type Define = (name: string, help: string, labelNames: string[], read: () => Sample[]) => void;

const one = (v: number | bigint): Sample[] => [[{}, v]];

function processMetrics(gauge: Define, counter: Define): void {
  gauge("process_resident_memory_bytes", "Resident memory of the control plane.", [], () =>
    one(process.memoryUsage().rss),
  );
  gauge("process_heap_used_bytes", "V8 heap in use.", [], () => one(process.memoryUsage().heapUsed));
  counter("process_cpu_seconds_total", "User + system CPU time of the control plane.", [], () => {
    const cpu = process.cpuUsage();
    return one((cpu.user + cpu.system) / 1e6);
  });
  gauge("process_uptime_seconds", "Seconds since the control plane started.", [], () => one(process.uptime()));
}

function agentMetrics(registry: Registry, src: PrometheusSources, gauge: Define, counter: Define): void {
  const totals = () => [...src.rolling.totals.entries()];
  for (const [key, help] of [
    ["hotpath", "Agent decision hot path latency (seconds)."],
    ["send", "Agent bundle send latency (seconds)."],
  ] as const) {
    const m = { name: `mevlab_agent_${key}_seconds`, help, registry, labelNames: ["module"] };
    mirrorHistogram(
      m,
      LATENCY_BOUNDS_US.map((b) => b / 1e6),
      () =>
        totals().map(([mod, t]) => ({
          labels: { module: Module[mod] },
          counts: key === "hotpath" ? t.hotpath : t.send,
          sum: (key === "hotpath" ? t.hotpathSum : t.sendSum) / 1e6,
        })),
    );
  }
  const perModule = (name: string, help: string, pick: (t: ModuleTotals) => bigint) =>
    counter(name, help, ["module"], () => totals().map(([mod, t]) => [{ module: Module[mod] }, pick(t)]));
  perModule("mevlab_agent_opportunities_total", "Opportunities the agents evaluated.", (t) => t.seen);
  perModule("mevlab_agent_bundles_sent_total", "Bundles the agents sent (simulated).", (t) => t.sent);
  perModule("mevlab_agent_bundles_landed_total", "Bundles that landed.", (t) => t.landed);
  perModule("mevlab_agent_pnl_lamports_total", "Net lamports of landed bundles (may go down).", (t) => t.pnlLamports);

  // One summary per scrape (it walks every second of the last hour), not one per gauge.
  let last: { at: number; value: ReturnType<RollingMetrics["summary"]> } | undefined;
  const summary = () => {
    const now = Date.now();
    if (!last || now - last.at > 100) last = { at: now, value: src.rolling.summary() };
    return last.value;
  };
  gauge("mevlab_hotpath_p50_ms", "Hot path p50 over the last 60 s.", [], () => one(summary().hotpathP50));
  gauge("mevlab_hotpath_p99_ms", "Hot path p99 over the last 60 s.", [], () => one(summary().hotpathP99));
  gauge("mevlab_send_p50_ms", "Send p50 over the last 60 s.", [], () => one(summary().sendP50));
  gauge("mevlab_send_p99_ms", "Send p99 over the last 60 s.", [], () => one(summary().sendP99));
  gauge("mevlab_landed_ratio_10m", "Bundles landed / sent over 10 min.", [], () => one(summary().landedPct));
  gauge("mevlab_pnl_1h_sol", "Net SOL of landed bundles over 1 h.", [], () => one(summary().pnl1h));
  gauge("mevlab_events_per_second", "Bus events consumed per second (10 s).", [], () => one(summary().eventsPerS));
}

function pipelineMetrics(src: PrometheusSources, gauge: Define, counter: Define): void {
  counter("mevlab_bus_events_total", "Events consumed from the bus, per topic.", ["topic"], () =>
    [...src.rolling.eventsByTopic.entries()].map(([topic, n]) => [{ topic }, n]),
  );
  counter(
    "mevlab_records_skipped_total",
    "Bus records nobody acts on, per topic and reason (schema_version: a major this control plane does not read; misrouted: a command on a partition its key does not map to, which no agent reads; unexpected_agent: an ack from an agent the request did not expect).",
    ["topic", "reason"],
    () => src.rolling.skipped.entries().map(({ topic, reason, count }) => [{ topic, reason }, count]),
  );
  counter(
    "mevlab_link_refused_total",
    "Bus link frames refused to an agent: a topic, group, key or record that is not its own (publish, subscribe, snapshot, handled), or too many bytes in flight.",
    ["agent", "kind"],
    () => src.rolling.linkRefused.entries().map(({ topic, reason, count }) => [{ agent: topic, kind: reason }, count]),
  );
  counter("mevlab_store_rows_total", "Rows the event sink wrote to the store.", [], () =>
    one(src.rolling.storeRowsTotal),
  );
  const sink = src.sink;
  if (sink) {
    const store = () => ({ store: sink().kind });
    gauge("mevlab_sink_spool_bytes", "Bytes waiting on disk for the store.", ["store"], () => [
      [store(), sink().spoolBytes],
    ]);
    gauge("mevlab_sink_spool_segments", "Spool segments waiting for the store.", ["store"], () => [
      [store(), sink().spoolSegments],
    ]);
    counter("mevlab_sink_failures_total", "Failed writes to the store (retried).", ["store"], () => [
      [store(), sink().failures],
    ]);
  }
  const hub = () => src.hub();
  gauge("mevlab_ws_clients", "Realtime WebSocket clients.", [], () => one(hub().clients));
  counter("mevlab_ws_events_published_total", "Events published to realtime clients, per stream.", ["stream"], () =>
    [...hub().published.entries()].map(([st, n]) => [{ stream: Stream[st] }, n]),
  );
  counter("mevlab_ws_events_dropped_total", "Events dropped for slow clients, per stream.", ["stream"], () =>
    [...hub().dropped.entries()].map(([st, n]) => [{ stream: Stream[st] }, n]),
  );
  counter("mevlab_ws_events_coalesced_total", "Queued events superseded by a later one.", [], () =>
    one(hub().coalesced),
  );
  gauge("mevlab_ws_queue_bytes_max", "Largest queued + unsent bytes of any connected client.", [], () =>
    one(hub().queueBytesMax),
  );
  const requests = src.requests;
  if (requests) {
    gauge("mevlab_control_requests", "Control requests held, per state.", ["state"], () =>
      Object.entries(requests()).map(([state, n]) => [{ state }, n]),
    );
  }
}

function nodeMetrics(src: PrometheusSources, gauge: Define): void {
  const node = () => src.rolling.node;
  gauge("mevlab_node_up", "1 when the node answered its last poll.", [], () => one(node()?.reachable ? 1 : 0));
  gauge("mevlab_node_healthy", "1 when getHealth answered ok.", [], () => one(node()?.healthy ? 1 : 0));
  gauge("mevlab_node_slot", "Node slot per commitment.", ["commitment"], () => {
    const n = node();
    return [
      [{ commitment: "processed" }, n?.slotProcessed ?? 0n],
      [{ commitment: "confirmed" }, n?.slotConfirmed ?? 0n],
      [{ commitment: "finalized" }, n?.slotFinalized ?? 0n],
    ];
  });
  gauge("mevlab_node_slot_lag", "Reference slot minus the node's processed slot.", [], () =>
    one(node()?.slotLag ?? 0n),
  );
}

/**
 * The control plane's Prometheus registry: its own process, the agents it hears, the bus, sink,
 * realtime hub and requests; the node's metrics only when a node is configured.
 */
export class PrometheusMetrics {
  readonly registry = new Registry();

  constructor(src: PrometheusSources) {
    const gauge: Define = (name, help, labelNames, read) =>
      mirrorGauge({ name, help, labelNames, read, registry: this.registry });
    const counter: Define = (name, help, labelNames, read) =>
      mirrorCounter({ name, help, labelNames, read, registry: this.registry });
    processMetrics(gauge, counter);
    agentMetrics(this.registry, src, gauge, counter);
    pipelineMetrics(src, gauge, counter);
    if (src.rolling.node?.configured) nodeMetrics(src, gauge);
  }

  /** Text exposition 0.0.4, one line per sample (prom-client puts a blank line between metrics). */
  async text(): Promise<string> {
    return (await this.registry.metrics()).replace(/\n\n/g, "\n");
  }

  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
}

export const prometheusText = (src: PrometheusSources): Promise<string> => new PrometheusMetrics(src).text();
