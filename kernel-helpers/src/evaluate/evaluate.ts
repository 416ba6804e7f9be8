/**
 * evaluate(): a trained model scored on an Arrow table with onnxruntime-node, beside the agents'
 * heuristic `p_land_est` on the same rows. docs/training.md, "Evaluate".
 */
import type { Table } from "apache-arrow";
import { DataError } from "../errors";
import { featureMatrix, labelColumn, numericColumn, rowsInRange } from "./columns";
import { evCurve, policyEv, type EvColumns, type PolicyEv } from "./ev";
import {
  auc,
  brier,
  calibration,
  logLoss,
  precisionRecall,
  roc,
  type CalibrationBin,
  type RocCurve,
  type ThresholdRow,
} from "./metrics";
import { LoadedModel, type ModelCard, type ModelSource, type SessionTuning } from "./model";

export interface EvaluateOptions {
  /** The label column; default the card's target, else `cf_would_land`. */
  label?: string;
  /** Score only the rows of the card's split (`test` is the held-out one); default every row. */
  split?: "train" | "valid" | "test";
  /** The policy's ev_min for the counterfactual EV; default the agents' 0.0005 SOL. */
  evMin?: number;
  /** ev_min values of the EV curve. */
  evGrid?: readonly number[];
  thresholds?: readonly number[];
  /** Predictions of another runtime on the same rows (the library's own, Python's onnxruntime): parity. */
  reference?: ArrayLike<number>;
  tuning?: SessionTuning;
}

export interface Scores {
  rows: number;
  positives: number;
  auc: number;
  logLoss: number;
  brier: number;
  calibration: CalibrationBin[];
  thresholds: ThresholdRow[];
  roc: RocCurve;
}

export interface Scored {
  name: string;
  scores: Scores;
  /** The counterfactual EV at the chosen ev_min, and against ev_min; absent without the EV columns. */
  ev?: PolicyEv;
  evCurve?: PolicyEv[];
}

export interface Parity {
  /** `reference`: against the predictions given; `card`: the trainer's check (onnxruntime in Python against the library). */
  source: "reference" | "card";
  maxAbsDiff: number;
  rows: number;
  ok: boolean;
  native?: string;
}

export interface Evaluation {
  model: Scored;
  /** The agents' `p_land_est` on the same rows, when the table has it. */
  heuristic?: Scored;
  parity: Parity[];
  card?: ModelCard;
  features: readonly string[];
  label: string;
  evMin: number;
  /** The model's predictions on the rows scored, in their order. */
  predictions: Float32Array;
}

export const PARITY_LIMIT = 1e-5;

export function score(p: ArrayLike<number>, y: Uint8Array, thresholds?: readonly number[]): Scores {
  let positives = 0;
  for (const v of y) positives += v;
  return {
    rows: y.length,
    positives,
    auc: auc(p, y),
    logLoss: logLoss(p, y),
    brier: brier(p, y),
    calibration: calibration(p, y),
    thresholds: precisionRecall(p, y, thresholds),
    roc: roc(p, y),
  };
}

export async function evaluate(
  model: ModelSource | LoadedModel,
  data: Table,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const loaded = model instanceof LoadedModel ? model : await LoadedModel.load(model, options.tuning);
  try {
    const label = options.label ?? loaded.target ?? "cf_would_land";
    const rows = selectRows(data, loaded.card, options.split);
    const pick = <T extends Float64Array | Uint8Array | Float32Array>(a: T): T =>
      rows ? (a.filter((_, i) => keep(rows, i)) as T) : a;
    const y = pick(labelColumn(data, label));
    if (y.length === 0) throw new DataError("evaluate: no rows to score", { field: options.split ? "split" : "data" });
    const x = featureMatrix(data, loaded.features);
    const pAll = await loaded.predict(x, data.numRows);
    const p = pick(pAll);
    const evMin = options.evMin ?? 0.0005;
    const ev = evColumns(data, pick);
    const scored = (name: string, q: ArrayLike<number>): Scored => ({
      name,
      scores: score(q, y, options.thresholds),
      ...(ev ? { ev: policyEv(q, ev, evMin), evCurve: evCurve(q, ev, options.evGrid) } : {}),
    });
    const heuristic = hasColumn(data, "p_land_est")
      ? scored("heuristic (p_land_est)", pick(numericColumn(data, "p_land_est")))
      : undefined;
    return {
      model: scored(loaded.card?.model ?? "model", p),
      heuristic,
      parity: parity(p, options.reference, loaded.card),
      card: loaded.card,
      features: loaded.features,
      label,
      evMin,
      predictions: p,
    };
  } finally {
    if (!(model instanceof LoadedModel)) await loaded.close();
  }
}

function keep(rows: Uint8Array, i: number): boolean {
  return rows[i] === 1;
}

/** A 0 / 1 mask of the split's rows, or undefined for every row. */
function selectRows(data: Table, card: ModelCard | undefined, split: EvaluateOptions["split"]): Uint8Array | undefined {
  if (!split) return undefined;
  const bounds = card?.split?.[split] as { from?: number | string; to?: number | string } | undefined;
  if (!bounds || bounds.from === undefined || bounds.to === undefined || !card?.time_column) {
    throw new DataError(`evaluate: split '${split}' needs the model's card with its split bounds and time column`, {
      field: "split",
    });
  }
  const mask = new Uint8Array(data.numRows);
  for (const i of rowsInRange(data, card.time_column, bounds.from, bounds.to)) mask[i] = 1;
  return mask;
}

function hasColumn(data: Table, name: string): boolean {
  return data.schema.fields.some((f) => f.name === name);
}

function evColumns(data: Table, pick: (a: Float64Array) => Float64Array): EvColumns | undefined {
  if (!hasColumn(data, "cf_net_lamports_if_sent")) return undefined;
  const planned = hasColumn(data, "net_sol") ? numericColumn(data, "net_sol") : plannedFromLamports(data);
  if (!planned) return undefined;
  return { plannedNetSol: pick(planned), realisedLamports: pick(numericColumn(data, "cf_net_lamports_if_sent")) };
}

/** (gross − fees − tip) / 1e9 for a table without `net_sol`. */
function plannedFromLamports(data: Table): Float64Array | undefined {
  if (!["gross_lamports", "fees_lamports", "tip_lamports"].every((c) => hasColumn(data, c))) return undefined;
  const [g, f, t] = ["gross_lamports", "fees_lamports", "tip_lamports"].map((c) => numericColumn(data, c));
  return g.map((v, i) => (v - f[i] - t[i]) / 1e9);
}

function parity(p: Float32Array, reference: ArrayLike<number> | undefined, card: ModelCard | undefined): Parity[] {
  const out: Parity[] = [];
  if (reference) {
    if (reference.length !== p.length) {
      throw new DataError(`evaluate: reference has ${reference.length} predictions for ${p.length} rows`, {
        field: "reference",
      });
    }
    let max = 0;
    for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i] - reference[i]));
    out.push({ source: "reference", maxAbsDiff: max, rows: p.length, ok: max <= PARITY_LIMIT });
  }
  if (card?.parity) {
    const c = card.parity;
    out.push({ source: "card", maxAbsDiff: c.max_abs_diff, rows: c.rows, ok: c.ok, native: c.native });
  }
  return out;
}
