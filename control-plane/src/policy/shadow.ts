/**
 * The shadow comparison: on every opportunity the agents scored with both the live model and a shadow
 * candidate, what each would have done and what it would have earned — the counterfactual realised
 * net SOL of the opportunities each accepted (the market's outcome is drawn for every opportunity,
 * sent or not), each estimate's calibration (mean estimate against the landed rate, Brier score), and
 * how often the two decisions agree. Kept in one-second buckets over rolling windows, per module and
 * per (live, shadow) pair: a new pair starts from nothing.
 */
import {
  Module,
  ShadowComparisonSchema,
  create,
  type ArbOpportunity,
  type MevOpportunity,
  type ShadowComparison,
} from "@mevlab/proto";

const LAMPORTS_PER_SOL = 1e9;
export const SHADOW_WINDOWS_S = [60, 600] as const;
const KEEP_S = SHADOW_WINDOWS_S[SHADOW_WINDOWS_S.length - 1];

interface Side {
  accepted: number;
  /** Accepted ones that would have landed. */
  landed: number;
  /** Counterfactual realised net lamports of the accepted opportunities. */
  evLamports: number;
  /** Sum of estimates, and of squared errors against would_land, over every opportunity. */
  pSum: number;
  sqErr: number;
}

interface Bucket {
  second: number;
  n: number;
  landed: number;
  agree: number;
  live: Side;
  shadow: Side;
}

const side = (): Side => ({ accepted: 0, landed: 0, evLamports: 0, pSum: 0, sqErr: 0 });

interface Pair {
  liveModel: string;
  shadowModel: string;
  buckets: Bucket[];
}

export interface SideView {
  model_id: string;
  accepted: number;
  /** Share of the accepted ones that would have landed. */
  hit_rate: number | null;
  ev_sol: number;
  mean_p: number | null;
  brier: number | null;
}

export interface ShadowWindow {
  seconds: number;
  opportunities: number;
  landed_rate: number | null;
  agreement: number | null;
  live: SideView;
  shadow: SideView;
  /** shadow − live counterfactual net SOL. */
  ev_delta_sol: number;
}

export interface ShadowView {
  module: string;
  active: boolean;
  live_model_id: string;
  shadow_model_id: string;
  windows: ShadowWindow[];
}

export class ShadowTracker {
  private readonly pairs = new Map<string, Pair>();

  constructor(private readonly now: () => number = Date.now) {}

  observe(module: string, o: ArbOpportunity | MevOpportunity): void {
    const d = o.decisionMeta;
    const cf = o.counterfactual;
    if (!d?.shadowModelId || !cf) return;
    let pair = this.pairs.get(module);
    if (!pair || pair.liveModel !== d.modelId || pair.shadowModel !== d.shadowModelId) {
      pair = { liveModel: d.modelId, shadowModel: d.shadowModelId, buckets: [] };
      this.pairs.set(module, pair);
    }
    const b = this.bucket(pair);
    const y = cf.wouldLand ? 1 : 0;
    const ev = Number(cf.netLamportsIfSent);
    b.n += 1;
    b.landed += y;
    if (d.accepted === d.shadowAccepted) b.agree += 1;
    add(b.live, d.accepted, d.pLandEst, y, ev);
    add(b.shadow, d.shadowAccepted, d.shadowPLandEst, y, ev);
  }

  /** The comparison of a module's current pair over each window; inactive when none was seen. */
  view(module: string, currentShadow: string | undefined): ShadowView {
    const pair = this.pairs.get(module);
    const active = !!pair && !!currentShadow && pair.shadowModel === currentShadow;
    const now = Math.floor(this.now() / 1000);
    return {
      module,
      active,
      live_model_id: pair?.liveModel ?? "",
      shadow_model_id: pair?.shadowModel ?? currentShadow ?? "",
      windows: SHADOW_WINDOWS_S.map((seconds) => summarise(pair, seconds, now)),
    };
  }

  private bucket(pair: Pair): Bucket {
    const second = Math.floor(this.now() / 1000);
    const last = pair.buckets[pair.buckets.length - 1];
    if (last?.second === second) return last;
    const b: Bucket = { second, n: 0, landed: 0, agree: 0, live: side(), shadow: side() };
    pair.buckets.push(b);
    while (pair.buckets.length > 0 && pair.buckets[0].second <= second - KEEP_S) pair.buckets.shift();
    return b;
  }
}

function add(s: Side, accepted: boolean, p: number, y: number, evLamports: number): void {
  if (accepted) {
    s.accepted += 1;
    s.landed += y;
    s.evLamports += evLamports;
  }
  s.pSum += p;
  s.sqErr += (p - y) ** 2;
}

function summarise(pair: Pair | undefined, seconds: number, now: number): ShadowWindow {
  const total = { n: 0, landed: 0, agree: 0, live: side(), shadow: side() };
  for (const b of pair?.buckets ?? []) {
    if (b.second <= now - seconds) continue;
    total.n += b.n;
    total.landed += b.landed;
    total.agree += b.agree;
    for (const k of ["live", "shadow"] as const) {
      total[k].accepted += b[k].accepted;
      total[k].landed += b[k].landed;
      total[k].evLamports += b[k].evLamports;
      total[k].pSum += b[k].pSum;
      total[k].sqErr += b[k].sqErr;
    }
  }
  const ratio = (x: number) => (total.n ? x / total.n : null);
  const view = (s: Side, id: string): SideView => ({
    model_id: id,
    accepted: s.accepted,
    hit_rate: s.accepted ? s.landed / s.accepted : null,
    ev_sol: s.evLamports / LAMPORTS_PER_SOL,
    mean_p: ratio(s.pSum),
    brier: ratio(s.sqErr),
  });
  return {
    seconds,
    opportunities: total.n,
    landed_rate: ratio(total.landed),
    agreement: ratio(total.agree),
    live: view(total.live, pair?.liveModel ?? ""),
    shadow: view(total.shadow, pair?.shadowModel ?? ""),
    ev_delta_sol: (total.shadow.evLamports - total.live.evLamports) / LAMPORTS_PER_SOL,
  };
}

const opt = (x: number | null) => (x === null ? undefined : x);
const sideMessage = (s: SideView) => ({
  modelId: s.model_id,
  accepted: BigInt(s.accepted),
  hitRate: opt(s.hit_rate),
  evSol: s.ev_sol,
  meanP: opt(s.mean_p),
  brier: opt(s.brier),
});

/** The view as the `shadow` realtime stream carries it. */
export function shadowMessage(view: ShadowView, ts = Date.now()): ShadowComparison {
  return create(ShadowComparisonSchema, {
    ts: BigInt(ts),
    module: Module[view.module as "arbitrage" | "mev"],
    active: view.active,
    liveModelId: view.live_model_id,
    shadowModelId: view.shadow_model_id,
    windows: view.windows.map((w) => ({
      seconds: w.seconds,
      opportunities: BigInt(w.opportunities),
      landedRate: opt(w.landed_rate),
      agreement: opt(w.agreement),
      live: sideMessage(w.live),
      shadow: sideMessage(w.shadow),
      evDeltaSol: w.ev_delta_sol,
    })),
  });
}
