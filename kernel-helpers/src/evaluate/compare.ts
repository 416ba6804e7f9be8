/**
 * compare(a, b): two evaluations (two models, or a model and the heuristic) side by side, as numbers
 * and as plotly figures (ROC, calibration, realised SOL against ev_min) that showPlotly() draws.
 */
import type { PlotlyFigure } from "../data/charts";
import type { Evaluation, Scored } from "./evaluate";

export interface ComparedSide {
  name: string;
  rows: number;
  auc: number;
  logLoss: number;
  brier: number;
  /** Realised SOL at the evaluation's ev_min, and the best over the EV curve. */
  realisedSol?: number;
  bestEv?: { evMin: number; realisedSol: number; taken: number };
}

export interface Comparison {
  a: ComparedSide;
  b: ComparedSide;
  /** b − a: positive means b is better for auc and realisedSol, worse for logLoss and brier. */
  delta: { auc: number; logLoss: number; brier: number; realisedSol?: number };
  charts: { roc: PlotlyFigure; calibration: PlotlyFigure; ev: PlotlyFigure };
}

/** A side to compare: an evaluation (its model) or one scored policy of it (`evaluation.heuristic`). */
export type Comparable = Evaluation | Scored;

function scoredOf(x: Comparable): Scored {
  return "scores" in x ? x : x.model;
}

function side(s: Scored): ComparedSide {
  const best = s.evCurve?.reduce((m, e) => (e.realisedSol > m.realisedSol ? e : m));
  return {
    name: s.name,
    rows: s.scores.rows,
    auc: s.scores.auc,
    logLoss: s.scores.logLoss,
    brier: s.scores.brier,
    realisedSol: s.ev?.realisedSol,
    bestEv: best && { evMin: best.evMin, realisedSol: best.realisedSol, taken: best.taken },
  };
}

export function compare(a: Comparable, b: Comparable, names?: [string, string]): Comparison {
  const sa = { ...scoredOf(a), ...(names ? { name: names[0] } : {}) };
  const sb = { ...scoredOf(b), ...(names ? { name: names[1] } : {}) };
  if (sa.name === sb.name) sb.name = `${sb.name} (b)`;
  const A = side(sa);
  const B = side(sb);
  return {
    a: A,
    b: B,
    delta: {
      auc: B.auc - A.auc,
      logLoss: B.logLoss - A.logLoss,
      brier: B.brier - A.brier,
      realisedSol:
        A.realisedSol !== undefined && B.realisedSol !== undefined ? B.realisedSol - A.realisedSol : undefined,
    },
    charts: { roc: rocChart(sa, sb), calibration: calibrationChart(sa, sb), ev: evChart(sa, sb) },
  };
}

function rocChart(...sides: Scored[]): PlotlyFigure {
  return {
    data: [
      ...sides.map((s) => ({
        type: "scatter",
        mode: "lines",
        name: `${s.name} (AUC ${s.scores.auc.toFixed(3)})`,
        x: s.scores.roc.fpr,
        y: s.scores.roc.tpr,
      })),
      { type: "scatter", mode: "lines", name: "chance", x: [0, 1], y: [0, 1], line: { dash: "dot", color: "grey" } },
    ],
    layout: {
      title: { text: "ROC" },
      xaxis: { title: { text: "false positive rate" }, range: [0, 1] },
      yaxis: { title: { text: "true positive rate" }, range: [0, 1] },
    },
  };
}

function calibrationChart(...sides: Scored[]): PlotlyFigure {
  return {
    data: [
      ...sides.map((s) => ({
        type: "scatter",
        mode: "lines+markers",
        name: s.name,
        x: s.scores.calibration.map((c) => c.meanPredicted),
        y: s.scores.calibration.map((c) => c.observed),
      })),
      { type: "scatter", mode: "lines", name: "perfect", x: [0, 1], y: [0, 1], line: { dash: "dot", color: "grey" } },
    ],
    layout: {
      title: { text: "Calibration (deciles of the predicted probability)" },
      xaxis: { title: { text: "mean predicted P(land)" }, range: [0, 1] },
      yaxis: { title: { text: "share that would land" }, range: [0, 1] },
    },
  };
}

function evChart(...sides: Scored[]): PlotlyFigure {
  return {
    data: sides
      .filter((s) => s.evCurve)
      .map((s) => ({
        type: "scatter",
        mode: "lines",
        name: s.name,
        x: s.evCurve!.map((e) => e.evMin),
        y: s.evCurve!.map((e) => e.realisedSol),
      })),
    layout: {
      title: { text: "Counterfactual realised SOL against ev_min" },
      xaxis: { title: { text: "ev_min (SOL)" } },
      yaxis: { title: { text: "realised net SOL of the opportunities taken" } },
    },
  };
}
