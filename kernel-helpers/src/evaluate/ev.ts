/**
 * The counterfactual EV of a policy on a held-out slice (docs/simulation.md, "The counterfactual
 * label"): an opportunity is taken when p · planned net SOL ≥ ev_min, and a taken one realises its
 * `cf_net_lamports_if_sent`, which the simulated market records for every opportunity, sent or not.
 * The tips are the ones the agents chose with their ladder: the slice says nothing about another tip,
 * so a policy is evaluated with the ladder the slice was recorded under (its ev_min is what varies).
 */

export interface EvColumns {
  /** `net_sol`: (gross − fees − tip) / 1e9, what the agent planned to earn if it landed. */
  plannedNetSol: Float64Array;
  /** `cf_net_lamports_if_sent`: what it would have realised, 0 when it would not land. */
  realisedLamports: Float64Array;
}

export interface PolicyEv {
  evMin: number;
  /** Opportunities taken, of `rows`. */
  taken: number;
  rows: number;
  /** Sum of the taken ones' counterfactual net, in SOL. */
  realisedSol: number;
  /** Taken ones that would have landed. */
  landed: number;
}

export function policyEv(p: ArrayLike<number>, cols: EvColumns, evMin: number): PolicyEv {
  let taken = 0;
  let landed = 0;
  let lamports = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] * cols.plannedNetSol[i] >= evMin) {
      taken++;
      lamports += cols.realisedLamports[i];
      if (cols.realisedLamports[i] !== 0) landed++;
    }
  }
  return { evMin, taken, rows: p.length, realisedSol: lamports / 1e9, landed };
}

/** ev_min from 0 to 0.004 SOL: the agents' default 0.0005 and the range their gross spans. */
export const DEFAULT_EV_GRID: readonly number[] = Array.from({ length: 41 }, (_, i) => +(i * 0.0001).toFixed(4));

/** Realised SOL against ev_min: the curve compare() draws and derivePolicy() maximises. */
export function evCurve(p: ArrayLike<number>, cols: EvColumns, grid: readonly number[] = DEFAULT_EV_GRID): PolicyEv[] {
  return grid.map((evMin) => policyEv(p, cols, evMin));
}
