/**
 * The features a module's reference agents compute for every opportunity when they decide: a model
 * can be promoted to a module only if each of its inputs is one of these (in any order, a subset).
 * The names are the opportunity tables' columns; `mevlab/train/features.py` holds the same sets as
 * `default` + `extended` (a test compares the two).
 */
const MARKET = ["f_tip_ratio_p75", "f_hotpath_us", "f_competing_bundles", "f_pool_liquidity_lamports"] as const;
const FLOOR = [
  "f_tip_floor_p25_lamports",
  "f_tip_floor_p50_lamports",
  "f_tip_floor_p75_lamports",
  "f_tip_floor_p95_lamports",
] as const;
const PROFIT = ["tip_lamports", "gross_lamports", "fees_lamports", "p_land_est"] as const;

/** `default` then `extended`, as mevlab/train/features.py lists them. */
export const AGENT_FEATURES = {
  arbitrage: [...MARKET, "f_route_hops", "f_leader_slot_index", ...FLOOR, ...PROFIT, "amount_in"],
  mev: [
    ...MARKET,
    "f_victim_pool_ratio",
    "f_leader_slot_index",
    ...FLOOR,
    ...PROFIT,
    "victim_amount_in",
    "frontrun_amount_in",
  ],
} as const satisfies Record<"arbitrage" | "mev", readonly string[]>;

/** Why a model with these inputs cannot run on the module's agents; undefined when it can. */
export function modelFeaturesProblem(module: "arbitrage" | "mev", names: readonly string[]): string | undefined {
  if (names.length === 0) return "the model records no feature names (metadata mevlab.feature_names)";
  const known: readonly string[] = AGENT_FEATURES[module];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    return `the ${module} agents do not compute ${unknown.join(", ")} (they compute ${known.join(", ")})`;
  }
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) return `feature ${twice[0]} is named twice`;
  return undefined;
}
