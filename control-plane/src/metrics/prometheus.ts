import { LATENCY_BOUNDS_US } from "@mevlab/kernel-helpers";
import { Module, Stream } from "@mevlab/proto";
import type { HubStats } from "../realtime/hub";
import type { RollingMetrics } from "./rolling";

export interface PrometheusSources {
  rolling: RollingMetrics;
  hub: () => HubStats;
  sink?: () => { spoolBytes: number; spoolSegments: number; failures: bigint; lastError: string; kind: string };
  requests?: () => Record<string, number>;
}

/** Prometheus text exposition (version 0.0.4) of the control plane and the agents it hears. */
export function prometheusText(src: PrometheusSources): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number | bigint][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) out.push(`${name}${labels} ${formatValue(v)}`);
  };
  const mod = (m: Module): string => `{module="${Module[m]}"}`;

  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  metric("process_resident_memory_bytes", "gauge", "Resident memory of the control plane.", [["", mem.rss]]);
  metric("process_heap_used_bytes", "gauge", "V8 heap in use.", [["", mem.heapUsed]]);
  metric("process_cpu_seconds_total", "counter", "User + system CPU time of the control plane.", [
    ["", (cpu.user + cpu.system) / 1e6],
  ]);
  metric("process_uptime_seconds", "gauge", "Seconds since the control plane started.", [["", process.uptime()]]);

  const totals = [...src.rolling.totals.entries()];
  for (const [key, help] of [
    ["hotpath", "Agent decision hot path latency (seconds)."],
    ["send", "Agent bundle send latency (seconds)."],
  ] as const) {
    const name = `mevlab_agent_${key}_seconds`;
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [m, t] of totals) {
      const counts = key === "hotpath" ? t.hotpath : t.send;
      let cum = 0;
      LATENCY_BOUNDS_US.forEach((b, i) => {
        cum += counts[i];
        out.push(`${name}_bucket{module="${Module[m]}",le="${b / 1e6}"} ${cum}`);
      });
      cum += counts[counts.length - 1];
      out.push(`${name}_bucket{module="${Module[m]}",le="+Inf"} ${cum}`);
      out.push(`${name}_sum{module="${Module[m]}"} ${(key === "hotpath" ? t.hotpathSum : t.sendSum) / 1e6}`);
      out.push(`${name}_count{module="${Module[m]}"} ${cum}`);
    }
  }
  metric(
    "mevlab_agent_opportunities_total",
    "counter",
    "Opportunities the agents evaluated.",
    totals.map(([m, t]) => [mod(m), t.seen]),
  );
  metric(
    "mevlab_agent_bundles_sent_total",
    "counter",
    "Bundles the agents sent (simulated).",
    totals.map(([m, t]) => [mod(m), t.sent]),
  );
  metric(
    "mevlab_agent_bundles_landed_total",
    "counter",
    "Bundles that landed.",
    totals.map(([m, t]) => [mod(m), t.landed]),
  );
  metric(
    "mevlab_agent_pnl_lamports_total",
    "counter",
    "Net lamports of landed bundles (may go down).",
    totals.map(([m, t]) => [mod(m), t.pnlLamports]),
  );

  const s = src.rolling.summary();
  metric("mevlab_hotpath_p50_ms", "gauge", "Hot path p50 over the last 60 s.", [["", s.hotpathP50]]);
  metric("mevlab_hotpath_p99_ms", "gauge", "Hot path p99 over the last 60 s.", [["", s.hotpathP99]]);
  metric("mevlab_send_p50_ms", "gauge", "Send p50 over the last 60 s.", [["", s.sendP50]]);
  metric("mevlab_send_p99_ms", "gauge", "Send p99 over the last 60 s.", [["", s.sendP99]]);
  metric("mevlab_landed_ratio_10m", "gauge", "Bundles landed / sent over 10 min.", [["", s.landedPct]]);
  metric("mevlab_pnl_1h_sol", "gauge", "Net SOL of landed bundles over 1 h.", [["", s.pnl1h]]);
  metric("mevlab_events_per_second", "gauge", "Bus events consumed per second (10 s).", [["", s.eventsPerS]]);

  metric(
    "mevlab_bus_events_total",
    "counter",
    "Events consumed from the bus, per topic.",
    [...src.rolling.eventsByTopic.entries()].map(([t, n]) => [`{topic="${t}"}`, n]),
  );
  metric("mevlab_store_rows_total", "counter", "Rows the event sink wrote to the store.", [
    ["", src.rolling.storeRowsTotal],
  ]);
  if (src.sink) {
    const k = src.sink();
    metric("mevlab_sink_spool_bytes", "gauge", "Bytes waiting on disk for the store.", [
      [`{store="${k.kind}"}`, k.spoolBytes],
    ]);
    metric("mevlab_sink_spool_segments", "gauge", "Spool segments waiting for the store.", [
      [`{store="${k.kind}"}`, k.spoolSegments],
    ]);
    metric("mevlab_sink_failures_total", "counter", "Failed writes to the store (retried).", [
      [`{store="${k.kind}"}`, k.failures],
    ]);
  }

  const hub = src.hub();
  metric("mevlab_ws_clients", "gauge", "Realtime WebSocket clients.", [["", hub.clients]]);
  metric(
    "mevlab_ws_events_published_total",
    "counter",
    "Events published to realtime clients, per stream.",
    [...hub.published.entries()].map(([st, n]) => [`{stream="${Stream[st]}"}`, n]),
  );
  metric(
    "mevlab_ws_events_dropped_total",
    "counter",
    "Events dropped for slow clients, per stream.",
    [...hub.dropped.entries()].map(([st, n]) => [`{stream="${Stream[st]}"}`, n]),
  );
  metric("mevlab_ws_events_coalesced_total", "counter", "Queued events superseded by a later one.", [
    ["", hub.coalesced],
  ]);
  metric("mevlab_ws_queue_bytes_max", "gauge", "Largest queued + unsent bytes of any connected client.", [
    ["", hub.queueBytesMax],
  ]);
  if (src.requests) {
    metric(
      "mevlab_control_requests",
      "gauge",
      "Control requests held, per state.",
      Object.entries(src.requests()).map(([st, n]) => [`{state="${st}"}`, n]),
    );
  }
  const node = s.node;
  if (node?.configured) {
    metric("mevlab_node_up", "gauge", "1 when the node answered its last poll.", [["", node.reachable ? 1 : 0]]);
    metric("mevlab_node_healthy", "gauge", "1 when getHealth answered ok.", [["", node.healthy ? 1 : 0]]);
    metric("mevlab_node_slot", "gauge", "Node slot per commitment.", [
      ['{commitment="processed"}', node.slotProcessed],
      ['{commitment="confirmed"}', node.slotConfirmed],
      ['{commitment="finalized"}', node.slotFinalized],
    ]);
    metric("mevlab_node_slot_lag", "gauge", "Reference slot minus the node's processed slot.", [["", node.slotLag]]);
  }
  return out.join("\n") + "\n";
}

function formatValue(v: number | bigint): string {
  if (typeof v === "bigint") return v.toString();
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
