import type { ModelCard, SplitMetrics } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";

const SPLITS = ["train", "valid", "test"] as const;
const METRICS = [
  ["auc", "AUC", true],
  ["logloss", "log loss", false],
  ["brier", "Brier", false],
] as const;

function num(v: number | null | undefined, digits = 4): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

function split(card: ModelCard, s: (typeof SPLITS)[number]): SplitMetrics {
  return card.metrics?.[s] ?? {};
}

/** `xgb · 1a2b3c4d5e6f`: how a model is named in lists. */
export function modelLabel(card: Pick<ModelCard, "model" | "id">): string {
  return `${card.model} · ${card.id.slice(0, 12)}`;
}

function metricsTable(card: ModelCard): HTMLTableElement {
  return el(
    "table",
    { className: "mevlab-card-metrics" },
    el("thead", {}, el("tr", {}, ...["split", "rows", "AUC", "log loss", "Brier"].map((h) => el("th", {}, h)))),
    el(
      "tbody",
      {},
      ...SPLITS.map((s) => {
        const m = split(card, s);
        return el(
          "tr",
          { dataset: { split: s } },
          el("td", {}, s),
          el("td", {}, (m.rows ?? 0).toLocaleString()),
          el("td", { className: "mevlab-metric-auc" }, num(m.auc)),
          el("td", { className: "mevlab-metric-logloss" }, num(m.logloss)),
          el("td", { className: "mevlab-metric-brier" }, num(m.brier)),
        );
      }),
    ),
  );
}

/** A model's card: what it is, how it was trained, its metrics per split, and the card's JSON. */
export function cardView(card: ModelCard): HTMLElement {
  const facts: Array<[string, string]> = [
    ["model id", card.id],
    ["model", card.model],
    ["module", card.module ?? ""],
    ["dataset", card.dataset?.id ?? ""],
    ["features", `${card.feature_set ?? ""}: ${(card.features ?? []).join(", ")}`],
    ["target", card.target ?? ""],
    ["device", card.device ?? ""],
    ["training time", `${num(card.training_seconds, 2)} s`],
    ["params", JSON.stringify(card.params ?? {})],
    ["created", card.created_at ?? ""],
  ];
  return el(
    "section",
    { className: "mevlab-model-card", dataset: { model: card.id } },
    el("h3", {}, `Model card · ${modelLabel(card)}`),
    el(
      "dl",
      { className: "mevlab-card-facts" },
      ...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { fact: k } }, v)]),
    ),
    metricsTable(card),
    el("details", {}, el("summary", {}, "card.json"), el("pre", {}, JSON.stringify(card, null, 2))),
  );
}

/** Two models side by side: test metrics (the better one marked), training facts, and a bar chart. */
export function compareView(a: ModelCard, b: ModelCard): HTMLElement {
  const ta = split(a, "test");
  const tb = split(b, "test");
  const row = (label: string, va: string, vb: string, better: "a" | "b" | "" = "") =>
    el(
      "tr",
      {},
      el("th", {}, label),
      el("td", { className: better === "a" ? "mevlab-better" : "" }, va),
      el("td", { className: better === "b" ? "mevlab-better" : "" }, vb),
    );
  const metricRows = METRICS.map(([key, label, higher]) => {
    const x = ta[key];
    const y = tb[key];
    let better: "a" | "b" | "" = "";
    if (typeof x === "number" && typeof y === "number" && x !== y) better = x > y === higher ? "a" : "b";
    return row(`test ${label}`, num(x), num(y), better);
  });
  return el(
    "section",
    { className: "mevlab-compare-view" },
    el("h3", {}, "Compare on the test split"),
    el(
      "table",
      { className: "mevlab-compare-table" },
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, modelLabel(a)), el("th", {}, modelLabel(b)))),
      el(
        "tbody",
        {},
        ...metricRows,
        row("test rows", (ta.rows ?? 0).toLocaleString(), (tb.rows ?? 0).toLocaleString()),
        row("device", a.device ?? "", b.device ?? ""),
        row("training time", `${num(a.training_seconds, 2)} s`, `${num(b.training_seconds, 2)} s`),
        row("dataset", a.dataset?.id ?? "", b.dataset?.id ?? ""),
      ),
    ),
    a.dataset?.id === b.dataset?.id
      ? ""
      : el("p", { className: "mevlab-compare-note" }, "Trained on different datasets: the test rows differ too."),
    metricBars(a, b),
  );
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Test AUC, log loss and Brier of both models as grouped bars (inline SVG; the bundle has no plotting library). */
function metricBars(a: ModelCard, b: ModelCard): SVGElement {
  const width = 420;
  const height = 180;
  const top = 16;
  const base = height - 28;
  const group = width / METRICS.length;
  const values = METRICS.map(([key]) => [split(a, "test")[key], split(b, "test")[key]]);
  const max = Math.max(1e-9, ...values.flat().map((v) => (typeof v === "number" ? v : 0)));
  const chart = svg("svg", { class: "mevlab-compare-chart", width, height, viewBox: `0 0 ${width} ${height}` });
  chart.append(svg("title", {}, "test metrics: first model left, second right"));
  METRICS.forEach(([, label], i) => {
    const x0 = i * group + group / 2;
    values[i].forEach((v, j) => {
      const h = typeof v === "number" ? ((base - top) * v) / max : 0;
      const x = x0 + (j === 0 ? -34 : 2);
      chart.append(
        svg("rect", { x, y: base - h, width: 32, height: h, class: `mevlab-bar-${j === 0 ? "a" : "b"}` }),
        svg("text", { x: x + 16, y: base - h - 3, "text-anchor": "middle", class: "mevlab-bar-value" }, num(v, 3)),
      );
    });
    chart.append(svg("text", { x: x0, y: height - 10, "text-anchor": "middle" }, label));
  });
  chart.append(svg("line", { x1: 0, x2: width, y1: base, y2: base, class: "mevlab-axis" }));
  return chart;
}
