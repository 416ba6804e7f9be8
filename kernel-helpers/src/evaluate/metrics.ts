/**
 * Binary-classifier metrics over plain arrays: p is P(label = 1), y is 0 / 1. Pure, no Arrow, no ONNX,
 * so that the same functions score a model's output and the agents' heuristic.
 */

/** Area under the ROC curve: the share of (positive, negative) pairs ordered right, ties counting half. */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = sortedIndex(p);
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i];
  const neg = y.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  // Rank sum of the positives (Mann-Whitney U), tied scores sharing their mean rank.
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && p[order[j + 1]] === p[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[order[k]] === 1) rankSum += rank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean negative log-likelihood, p clipped to [1e-15, 1 − 1e-15] as scikit-learn does. */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(Math.max(p[i], 1e-15), 1 - 1e-15);
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

/** Mean squared difference between probability and outcome. */
export function brier(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - y[i]) ** 2;
  return s / p.length;
}

export interface CalibrationBin {
  /** Bounds of the predicted probability in this bin. */
  from: number;
  to: number;
  rows: number;
  meanPredicted: number;
  /** Share of rows in the bin whose label is 1. */
  observed: number;
}

/** Rows sorted by predicted probability and cut into `bins` groups of equal size (deciles by default). */
export function calibration(p: ArrayLike<number>, y: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const order = sortedIndex(p);
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * order.length) / bins);
    const hi = Math.floor(((b + 1) * order.length) / bins);
    if (hi <= lo) continue;
    let sp = 0;
    let sy = 0;
    for (let k = lo; k < hi; k++) {
      sp += p[order[k]];
      sy += y[order[k]];
    }
    const n = hi - lo;
    out.push({ from: p[order[lo]], to: p[order[hi - 1]], rows: n, meanPredicted: sp / n, observed: sy / n });
  }
  return out;
}

export interface ThresholdRow {
  threshold: number;
  /** Rows with p ≥ threshold. */
  predictedPositive: number;
  precision: number;
  recall: number;
}

export const DEFAULT_THRESHOLDS: readonly number[] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Precision and recall of "p ≥ threshold"; precision is NaN where nothing passes. */
export function precisionRecall(
  p: ArrayLike<number>,
  y: ArrayLike<number>,
  thresholds: readonly number[] = DEFAULT_THRESHOLDS,
): ThresholdRow[] {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  return thresholds.map((threshold) => {
    let tp = 0;
    let pp = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] >= threshold) {
        pp++;
        tp += y[i];
      }
    }
    return {
      threshold,
      predictedPositive: pp,
      precision: pp ? tp / pp : NaN,
      recall: positives ? tp / positives : NaN,
    };
  });
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
}

/** The ROC curve at every distinct score, thinned to at most `points` points for drawing. */
export function roc(p: ArrayLike<number>, y: ArrayLike<number>, points = 200): RocCurve {
  const order = sortedIndex(p).reverse();
  let pos = 0;
  for (let i = 0; i < y.length; i++) pos += y[i];
  const neg = y.length - pos;
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  const step = Math.max(1, Math.floor(order.length / points));
  for (let k = 0; k < order.length; k++) {
    if (y[order[k]] === 1) tp++;
    else fp++;
    const last = k === order.length - 1;
    if (last || (k % step === step - 1 && p[order[k + 1]] !== p[order[k]])) {
      fpr.push(neg ? fp / neg : 0);
      tpr.push(pos ? tp / pos : 0);
    }
  }
  return { fpr, tpr };
}

/** Indices ordered by ascending score. */
function sortedIndex(p: ArrayLike<number>): Uint32Array {
  const idx = new Uint32Array(p.length);
  for (let i = 0; i < idx.length; i++) idx[i] = i;
  return idx.sort((a, b) => p[a] - p[b]);
}
