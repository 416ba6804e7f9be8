/**
 * A module's simulated history without running agents: `rows` arbitrage opportunities drawn as a
 * reference agent draws them (seeded), decided with the built-in rule, as the event store keeps their
 * columns (the `default` features, the rule's estimate, the plan and the counterfactual outcome).
 * For training in tests and benches on the simulated market itself (docs/simulation.md).
 */
import { initialRuntime } from "./state";
import { arbOpportunity, rng } from "./simulate";

const PER_SLOT = 20;
export const HISTORY_START_MS = 1_767_225_600_000;

export function arbHistory(rows: number, seed = 21): Record<string, Float64Array | Uint8Array> {
  const r = rng(seed);
  const rt = initialRuntime(false);
  const col = () => new Float64Array(rows);
  const c = {
    ts_ms: col(),
    f_tip_ratio_p75: col(),
    f_hotpath_us: col(),
    f_competing_bundles: col(),
    f_pool_liquidity_lamports: col(),
    f_route_hops: col(),
    f_leader_slot_index: col(),
    p_land_est: col(),
    net_sol: col(),
    cf_net_lamports_if_sent: col(),
    cf_would_land: new Uint8Array(rows),
  };
  for (let i = 0; i < rows; i++) {
    const o = arbOpportunity(r, "arb-h", 358_000_000n + BigInt(Math.floor(i / PER_SLOT)), i, rt);
    const f = o.features!;
    c.ts_ms[i] = HISTORY_START_MS + i * 5;
    c.f_tip_ratio_p75[i] = f.tipRatioP75;
    c.f_hotpath_us[i] = f.hotpathUs;
    c.f_competing_bundles[i] = f.competingBundles;
    c.f_pool_liquidity_lamports[i] = Number(f.poolLiquidityLamports);
    c.f_route_hops[i] = f.routeHops;
    c.f_leader_slot_index[i] = f.leaderSlotIndex;
    c.p_land_est[i] = o.decisionMeta!.pLandEst;
    c.net_sol[i] = o.profit!.netSol;
    c.cf_net_lamports_if_sent[i] = Number(o.counterfactual!.netLamportsIfSent);
    c.cf_would_land[i] = o.counterfactual!.wouldLand ? 1 : 0;
  }
  return c;
}
