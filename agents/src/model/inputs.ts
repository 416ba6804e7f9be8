/**
 * A model's input row from an opportunity's inputs, by the names the model records: the same values
 * the event store keeps in the opportunity tables' columns of those names (lamports as numbers).
 */
import type { ModelInputs } from "../simulate";

const GETTERS: Record<string, (d: ModelInputs) => number> = {
  f_tip_ratio_p75: (d) => d.f.tipRatioP75,
  f_hotpath_us: (d) => d.f.hotpathUs,
  f_competing_bundles: (d) => d.f.competingBundles,
  f_pool_liquidity_lamports: (d) => d.f.poolLiquidity,
  f_route_hops: (d) => d.f.routeHops,
  f_victim_pool_ratio: (d) => d.f.victimPoolRatio,
  f_leader_slot_index: (d) => d.f.leaderSlotIndex,
  f_tip_floor_p25_lamports: (d) => d.f.tipFloorP25,
  f_tip_floor_p50_lamports: (d) => d.f.tipFloorP50,
  f_tip_floor_p75_lamports: (d) => d.f.tipFloorP75,
  f_tip_floor_p95_lamports: (d) => d.f.tipFloorP95,
  tip_lamports: (d) => d.tipLamports,
  gross_lamports: (d) => d.grossLamports,
  fees_lamports: (d) => d.feesLamports,
  p_land_est: (d) => d.heuristic,
  amount_in: (d) => d.amountIn,
  victim_amount_in: (d) => d.victimAmountIn,
  frontrun_amount_in: (d) => d.frontrunAmountIn,
};

/** The names the agents can fill (AGENT_FEATURES of kernel-helpers names the subset per module). */
export const COMPUTABLE_FEATURES: readonly string[] = Object.keys(GETTERS);

export type RowWriter = (inputs: ModelInputs, out: Float32Array, offset: number) => void;

/** Writes one row in the model's feature order; throws for a name the agents do not compute. */
export function rowWriter(names: readonly string[]): RowWriter {
  const getters = names.map((n) => {
    const g = GETTERS[n];
    if (!g) throw new Error(`the agents do not compute feature '${n}'`);
    return g;
  });
  return (inputs, out, offset) => {
    for (let j = 0; j < getters.length; j++) out[offset + j] = getters[j](inputs);
  };
}
