/**
 * What the learnable-market test needs to fit and score a model, in plain TypeScript: logistic
 * regression by gradient descent on standardised columns, AUC and log loss.
 */

/** Fitted weights on standardised columns (and their means and spreads). */
export interface Logistic {
  mean: Float64Array;
  scale: Float64Array;
  weights: Float64Array;
  bias: number;
}

/** Rows × columns, row-major. */
export interface Design {
  rows: number;
  cols: number;
  x: Float64Array;
}

function standardise(d: Design): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(d.cols);
  const scale = new Float64Array(d.cols);
  for (let i = 0; i < d.rows; i++) for (let j = 0; j < d.cols; j++) mean[j] += d.x[i * d.cols + j] / d.rows;
  for (let i = 0; i < d.rows; i++) {
    for (let j = 0; j < d.cols; j++) scale[j] += (d.x[i * d.cols + j] - mean[j]) ** 2 / d.rows;
  }
  for (let j = 0; j < d.cols; j++) scale[j] = Math.sqrt(scale[j]) || 1;
  return { mean, scale };
}

/** Full-batch gradient descent with momentum on the mean log loss. */
export function fitLogistic(d: Design, y: Uint8Array, steps = 300, rate = 0.5): Logistic {
  const { mean, scale } = standardise(d);
  const z = new Float64Array(d.rows * d.cols);
  for (let i = 0; i < z.length; i++) z[i] = (d.x[i] - mean[i % d.cols]) / scale[i % d.cols];
  const w = new Float64Array(d.cols + 1);
  const velocity = new Float64Array(d.cols + 1);
  const grad = new Float64Array(d.cols + 1);
  for (let step = 0; step < steps; step++) {
    grad.fill(0);
    for (let i = 0; i < d.rows; i++) {
      let s = w[d.cols];
      for (let j = 0; j < d.cols; j++) s += w[j] * z[i * d.cols + j];
      const err = 1 / (1 + Math.exp(-s)) - y[i];
      for (let j = 0; j < d.cols; j++) grad[j] += err * z[i * d.cols + j];
      grad[d.cols] += err;
    }
    for (let j = 0; j <= d.cols; j++) {
      velocity[j] = 0.9 * velocity[j] - (rate * grad[j]) / d.rows;
      w[j] += velocity[j];
    }
  }
  return { mean, scale, weights: w.subarray(0, d.cols), bias: w[d.cols] };
}

export function predict(m: Logistic, d: Design): Float64Array {
  const p = new Float64Array(d.rows);
  for (let i = 0; i < d.rows; i++) {
    let s = m.bias;
    for (let j = 0; j < d.cols; j++) s += (m.weights[j] * (d.x[i * d.cols + j] - m.mean[j])) / m.scale[j];
    p[i] = 1 / (1 + Math.exp(-s));
  }
  return p;
}

/** Area under the ROC curve (ties count half). */
export function auc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const order = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && score[order[j]] === score[order[i]]) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (y[order[k]]) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j;
  }
  const negatives = y.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean log loss, probabilities clipped to [1e-6, 1 - 1e-6]. */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-6, Math.max(1e-6, p[i]));
    s -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}
