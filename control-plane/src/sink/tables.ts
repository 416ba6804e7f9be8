import {
  AckOutcome,
  Action,
  AgentState,
  Module,
  type ArbOpportunity,
  type BundleOutcome,
  type ControlAck,
  type MetricsUpdate,
  type MevOpportunity,
} from "@mevlab/proto";
import {
  CLICKHOUSE_TYPE,
  EVENT_TABLES,
  LATENCY_BOUNDS_US,
  addHistogram,
  quantileOf,
  type Columns,
} from "@mevlab/kernel-helpers";

export type Row = Record<string, bigint | number | string | boolean>;

export interface TableSpec<M> {
  /** Table name, and the stream directory of the Parquet store. */
  name: string;
  /** Every table starts with ts_ms (unix ms, UTC). */
  columns: Columns;
  row(m: M): Row;
}

function profitRow(o: ArbOpportunity | MevOpportunity): Row {
  const p = o.profit;
  const d = o.decisionMeta;
  return {
    gross_lamports: p?.grossLamports ?? 0n,
    fees_lamports: p?.feesLamports ?? 0n,
    tip_lamports: p?.tipLamports ?? 0n,
    net_lamports: p?.netLamports ?? 0n,
    net_sol: p?.netSol ?? 0,
    p_land_est: d?.pLandEst ?? 0,
    ev_sol: d?.evSol ?? 0,
    tip_quantile: d?.tipPolicy?.quantile ?? 0,
    policy_version: d?.policyVersion ?? 0n,
    model_id: d?.modelId ?? "",
    accepted: d?.accepted ?? false,
    bundle_id: o.outcome?.bundleId ?? "",
    landed: o.outcome?.landed ?? false,
    ...marketRow(o),
    shadow_model_id: d?.shadowModelId ?? "",
    shadow_p_land_est: d?.shadowPLandEst ?? 0,
    shadow_accepted: d?.shadowAccepted ?? false,
  };
}

/** The `features` and `counterfactual` messages as flat columns; an opportunity without them stores 0s. */
function marketRow(o: ArbOpportunity | MevOpportunity): Row {
  const f = o.features;
  const cf = o.counterfactual;
  return {
    f_tip_floor_p25_lamports: f?.tipFloorP25Lamports ?? 0n,
    f_tip_floor_p50_lamports: f?.tipFloorP50Lamports ?? 0n,
    f_tip_floor_p75_lamports: f?.tipFloorP75Lamports ?? 0n,
    f_tip_floor_p95_lamports: f?.tipFloorP95Lamports ?? 0n,
    f_tip_ratio_p75: f?.tipRatioP75 ?? 0,
    f_hotpath_us: f?.hotpathUs ?? 0,
    f_competing_bundles: f?.competingBundles ?? 0,
    f_pool_liquidity_lamports: f?.poolLiquidityLamports ?? 0n,
    f_route_hops: f?.routeHops ?? 0,
    f_victim_pool_ratio: f?.victimPoolRatio ?? 0,
    f_leader_slot_index: f?.leaderSlotIndex ?? 0,
    cf_would_land: cf?.wouldLand ?? false,
    cf_net_lamports_if_sent: cf?.netLamportsIfSent ?? 0n,
  };
}

export const ARB_TABLE: TableSpec<ArbOpportunity> = {
  name: "arb_opportunities",
  columns: EVENT_TABLES.arb_opportunities,
  row: (o) => ({
    ts_ms: o.ts,
    id: o.id,
    agent_id: o.agentId,
    slot: o.slot,
    tx_signature: o.txSignature,
    dexes: o.route.map((h) => h.dex).join(","),
    hops: o.route.length,
    amount_in: o.route[0]?.amountIn ?? 0n,
    ...profitRow(o),
  }),
};

export const MEV_TABLE: TableSpec<MevOpportunity> = {
  name: "mev_opportunities",
  columns: EVENT_TABLES.mev_opportunities,
  row: (o) => ({
    ts_ms: o.ts,
    id: o.id,
    agent_id: o.agentId,
    slot: o.slot,
    attacker: o.attacker,
    victim_tx: o.victimTx,
    dex: o.dex,
    pool: o.pool,
    victim_amount_in: o.victimAmountIn,
    frontrun_amount_in: o.frontrunAmountIn,
    ...profitRow(o),
  }),
};

export const OUTCOME_TABLE: TableSpec<BundleOutcome> = {
  name: "bundle_outcomes",
  columns: EVENT_TABLES.bundle_outcomes,
  row: (o) => ({
    ts_ms: o.ts,
    bundle_id: o.bundleId,
    module: Module[o.module],
    agent_id: o.agentId,
    opportunity_id: o.opportunityId,
    landed: o.landed,
    tip_lamports: o.tipLamports,
    slot: o.slot,
    latency_ms: o.latencyMs,
  }),
};

function pct(h: MetricsUpdate["hotpathUs"], q: number): number {
  const counts = new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);
  if (!addHistogram(counts, LATENCY_BOUNDS_US, h)) return 0;
  const v = quantileOf(counts, LATENCY_BOUNDS_US, q);
  return Number.isNaN(v) ? 0 : v;
}

export const METRICS_TABLE: TableSpec<MetricsUpdate> = {
  name: "agent_metrics",
  columns: EVENT_TABLES.agent_metrics,
  row: (m) => ({
    ts_ms: m.ts,
    agent_id: m.agentId,
    module: Module[m.module],
    interval_ms: m.intervalMs,
    hotpath_p50_us: pct(m.hotpathUs, 0.5),
    hotpath_p99_us: pct(m.hotpathUs, 0.99),
    send_p50_us: pct(m.sendUs, 0.5),
    send_p99_us: pct(m.sendUs, 0.99),
    opportunities_seen: m.opportunitiesSeen,
    bundles_sent: m.bundlesSent,
    bundles_landed: m.bundlesLanded,
    pnl_lamports: m.pnlLamports,
  }),
};

export const ACK_TABLE: TableSpec<ControlAck> = {
  name: "control_acks",
  columns: [
    ["ts_ms", "u64"],
    ["module", "str"],
    ["request_id", "str"],
    ["agent_id", "str"],
    ["action", "str"],
    ["outcome", "str"],
    ["reason", "str"],
    ["policy_version", "u64"],
    ["state", "str"],
    ["throttle_pct", "u32"],
  ],
  row: (a) => ({
    ts_ms: a.ts,
    module: Module[a.module],
    request_id: a.requestId,
    agent_id: a.agentId,
    action: Action[a.action],
    outcome: AckOutcome[a.outcome],
    reason: a.reason,
    policy_version: a.policyVersion,
    state: AgentState[a.state],
    throttle_pct: a.throttlePct,
  }),
};

export const TABLES = [ARB_TABLE, MEV_TABLE, OUTCOME_TABLE, METRICS_TABLE, ACK_TABLE] as const;
export type TableName = (typeof TABLES)[number]["name"];

export function tableSpec(name: string): TableSpec<never> | undefined {
  return TABLES.find((t) => t.name === name) as TableSpec<never> | undefined;
}

/**
 * One row as a JSON object line, columns in table order. 64-bit integers are written as exact
 * numerals (JSON.stringify cannot), booleans as true/false.
 */
export function rowJson(spec: TableSpec<never>, row: Row): string {
  let s = "{";
  for (let i = 0; i < spec.columns.length; i++) {
    const [name, type] = spec.columns[i];
    const v = row[name];
    s += (i ? ',"' : '"') + name + '":';
    if (type === "str") s += JSON.stringify(typeof v === "string" ? v : String(v ?? ""));
    else if (type === "bool") s += v ? "true" : "false";
    else if (type === "f64") s += typeof v === "number" && Number.isFinite(v) ? String(v) : "0";
    else s += typeof v === "bigint" ? v.toString() : String(Math.trunc(Number(v ?? 0)));
  }
  return s + "}";
}

const ORDER_KEY: Record<string, string> = {
  arb_opportunities: "agent_id",
  mev_opportunities: "agent_id",
  bundle_outcomes: "bundle_id",
  agent_metrics: "agent_id",
  control_acks: "request_id",
};

/**
 * ClickHouse DDL of the event store (`ddl/clickhouse.sql` is this text). Plain MergeTree types that
 * every ClickHouse since 18.x reads; `ts` is derived from `ts_ms` on insert.
 */
export function clickHouseDdl(database = "mevlab"): string {
  const out = [
    "-- mevlab event store. Generated from control-plane/src/sink/tables.ts; edit there, then run",
    "--   node control-plane/dist/src/sink/write-ddl.js",
    `CREATE DATABASE IF NOT EXISTS ${database};`,
  ];
  for (const t of TABLES) {
    const cols = t.columns.map(([n, ty]) => `  ${n} ${CLICKHOUSE_TYPE[ty]}`);
    cols.splice(1, 0, "  ts DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC')");
    out.push(
      "",
      `CREATE TABLE IF NOT EXISTS ${database}.${t.name} (`,
      cols.join(",\n"),
      `) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, ${ORDER_KEY[t.name]});`,
    );
  }
  return out.join("\n") + "\n";
}
