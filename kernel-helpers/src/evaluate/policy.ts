/**
 * derivePolicy(): ev_min and the tip ladder from a model's evaluation on validation data.
 *
 * ev_min is the point of the EV curve where the opportunities the model would take realise the most
 * SOL (ties: the higher ev_min, fewer bundles for the same SOL). The ladder is kept: the slice holds the
 * outcomes of the tips the agents chose, and says nothing about the rows a different ladder would have
 * tipped otherwise; it is the one given, else the agents' default. The result passes validatePolicy().
 */
import { DataError } from "../errors";
import { validatePolicy } from "../client/policy-rules";
import type { Evaluation } from "./evaluate";
import type { PolicyEv } from "./ev";

/** The reference agents' default ladder (agents/src/state.ts). */
export const DEFAULT_TIP_LADDER: readonly number[] = [0.5, 0.7, 0.85, 0.95];

export interface DerivedPolicy {
  ev_min: number;
  tip_ladder: number[];
  /** What the policy realised on the evaluation's rows, and what the evaluation's own ev_min did. */
  expected: PolicyEv;
  baseline?: PolicyEv;
  method: string;
}

export function derivePolicy(evaluation: Evaluation, options: { tipLadder?: readonly number[] } = {}): DerivedPolicy {
  const curve = evaluation.model.evCurve;
  if (!curve?.length) {
    throw new DataError(
      "derivePolicy: the evaluation has no EV curve (the data lacked cf_net_lamports_if_sent and net_sol)",
      {
        field: "evaluation",
      },
    );
  }
  const best = curve.reduce((m, e) => (e.realisedSol >= m.realisedSol ? e : m));
  const policy = { ev_min: best.evMin, tip_ladder: [...(options.tipLadder ?? DEFAULT_TIP_LADDER)] };
  const problems = validatePolicy(policy);
  if (problems.length) throw new DataError(`derivePolicy: ${problems[0].message}`, { field: problems[0].field });
  return {
    ...policy,
    expected: best,
    baseline: evaluation.model.ev,
    method: "ev_min: the EV curve's maximum of counterfactual realised SOL; tip ladder: kept",
  };
}
