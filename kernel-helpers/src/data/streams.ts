/**
 * The event store's tables, shared by the control plane's sink (which writes them to Parquet or
 * ClickHouse) and the slice helpers (which read them back).
 */
export type ColumnType = "u64" | "i64" | "u32" | "f64" | "str" | "bool";

export const CLICKHOUSE_TYPE: Record<ColumnType, string> = {
  u64: "UInt64",
  i64: "Int64",
  u32: "UInt32",
  f64: "Float64",
  str: "String",
  bool: "UInt8",
};

export const DUCKDB_TYPE: Record<ColumnType, string> = {
  u64: "UBIGINT",
  i64: "BIGINT",
  u32: "UINTEGER",
  f64: "DOUBLE",
  str: "VARCHAR",
  bool: "BOOLEAN",
};

export type Columns = readonly (readonly [string, ColumnType])[];

const PROFIT_COLUMNS = [
  ["gross_lamports", "i64"],
  ["fees_lamports", "i64"],
  ["tip_lamports", "i64"],
  ["net_lamports", "i64"],
  ["net_sol", "f64"],
  ["p_land_est", "f64"],
  ["ev_sol", "f64"],
  ["tip_quantile", "f64"],
  ["policy_version", "u64"],
  ["model_id", "str"],
  ["accepted", "bool"],
  ["bundle_id", "str"],
  ["landed", "bool"],
] as const;

/**
 * The simulated market's features of an opportunity (`f_*`, the `features` message) and what it would
 * have earned had it been sent (`cf_*`, the `counterfactual` message: a simulation's label, see
 * docs/simulation.md). Rows stored before these columns existed read as NULL locally, 0 in ClickHouse.
 */
const MARKET_COLUMNS = [
  ["f_tip_floor_p25_lamports", "u64"],
  ["f_tip_floor_p50_lamports", "u64"],
  ["f_tip_floor_p75_lamports", "u64"],
  ["f_tip_floor_p95_lamports", "u64"],
  ["f_tip_ratio_p75", "f64"],
  ["f_hotpath_us", "f64"],
  ["f_competing_bundles", "u32"],
  ["f_pool_liquidity_lamports", "u64"],
  ["f_route_hops", "u32"],
  ["f_victim_pool_ratio", "f64"],
  ["f_leader_slot_index", "u32"],
  ["cf_would_land", "bool"],
  ["cf_net_lamports_if_sent", "i64"],
] as const;

/**
 * A shadow candidate's estimate and decision on the same opportunity (docs/promotion.md): empty, 0 and
 * false when no candidate was deployed.
 */
const SHADOW_COLUMNS = [
  ["shadow_model_id", "str"],
  ["shadow_p_land_est", "f64"],
  ["shadow_accepted", "bool"],
] as const;

/** Columns added to tables after their first release: parts written before may lack them. */
export const ADDED_COLUMNS: ReadonlySet<string> = new Set([...MARKET_COLUMNS, ...SHADOW_COLUMNS].map(([n]) => n));

/** The opportunity tables' feature columns, in table order: what a model of the market reads. */
export const MARKET_FEATURE_COLUMNS: readonly string[] = MARKET_COLUMNS.map(([n]) => n).filter((n) =>
  n.startsWith("f_"),
);

/** Every table starts with ts_ms (unix ms, UTC), the column slices select time ranges on. */
export const EVENT_TABLES = {
  arb_opportunities: [
    ["ts_ms", "u64"],
    ["id", "str"],
    ["agent_id", "str"],
    ["slot", "u64"],
    ["tx_signature", "str"],
    ["dexes", "str"],
    ["hops", "u32"],
    ["amount_in", "u64"],
    ...PROFIT_COLUMNS,
    ...MARKET_COLUMNS,
    ...SHADOW_COLUMNS,
  ],
  mev_opportunities: [
    ["ts_ms", "u64"],
    ["id", "str"],
    ["agent_id", "str"],
    ["slot", "u64"],
    ["attacker", "str"],
    ["victim_tx", "str"],
    ["dex", "str"],
    ["pool", "str"],
    ["victim_amount_in", "u64"],
    ["frontrun_amount_in", "u64"],
    ...PROFIT_COLUMNS,
    ...MARKET_COLUMNS,
    ...SHADOW_COLUMNS,
  ],
  bundle_outcomes: [
    ["ts_ms", "u64"],
    ["bundle_id", "str"],
    ["module", "str"],
    ["agent_id", "str"],
    ["opportunity_id", "str"],
    ["landed", "bool"],
    ["tip_lamports", "u64"],
    ["slot", "u64"],
    ["latency_ms", "u32"],
  ],
  agent_metrics: [
    ["ts_ms", "u64"],
    ["agent_id", "str"],
    ["module", "str"],
    ["interval_ms", "u32"],
    ["hotpath_p50_us", "f64"],
    ["hotpath_p99_us", "f64"],
    ["send_p50_us", "f64"],
    ["send_p99_us", "f64"],
    ["opportunities_seen", "u64"],
    ["bundles_sent", "u64"],
    ["bundles_landed", "u64"],
    ["pnl_lamports", "i64"],
  ],
} as const satisfies Record<string, Columns>;

export type EventTable = keyof typeof EVENT_TABLES;

/** Stream names a slice accepts: the table names and the blueprint's short `types` (`arb`, `mev`). */
export const STREAM_ALIASES: Record<string, EventTable> = {
  arb: "arb_opportunities",
  arbitrage: "arb_opportunities",
  arb_opportunities: "arb_opportunities",
  mev: "mev_opportunities",
  mev_opportunities: "mev_opportunities",
  outcomes: "bundle_outcomes",
  bundle_outcomes: "bundle_outcomes",
  metrics: "agent_metrics",
  agent_metrics: "agent_metrics",
};

/** The table a stream name stands for; names of Object's own properties (`toString`) are not streams. */
export function streamTable(name: unknown): EventTable | undefined {
  return typeof name === "string" && Object.hasOwn(STREAM_ALIASES, name) ? STREAM_ALIASES[name] : undefined;
}
