import type { Message } from "@lumino/messaging";
import { Widget } from "@lumino/widgets";
import type * as PlotlyModule from "plotly.js-basic-dist-min";
import { el } from "./dom";
import { themeColours } from "./live-theme";
import type { MetricsSeries } from "./metrics-series";

type Plotly = typeof PlotlyModule;

/** Plotly (about 1 MB) is fetched the first time a chart is drawn, not with JupyterLab. */
let plotlyReady: Promise<Plotly> | undefined;
function loadPlotly(): Promise<Plotly> {
  plotlyReady ??= import("plotly.js-basic-dist-min").then((m) => (m as { default?: Plotly }).default ?? m);
  return plotlyReady;
}

interface ChartSpec {
  key: "pnl" | "hotpath" | "landed";
  title: string;
  unit: string;
  /** The line's colour: a JupyterLab CSS variable. */
  colour: string;
  y: (s: MetricsSeries) => Array<number | null>;
  range?: [number, number];
}

const CHARTS: ChartSpec[] = [
  {
    key: "pnl",
    title: "Cumulative PnL since the control plane started",
    unit: "SOL",
    colour: "--jp-brand-color1",
    y: (s) => s.pnl,
  },
  { key: "hotpath", title: "Hot path p99 (60 s window)", unit: "ms", colour: "--jp-warn-color1", y: (s) => s.hotpath },
  {
    key: "landed",
    title: "Landed bundles (10 min window)",
    unit: "%",
    colour: "--jp-success-color1",
    y: (s) => s.landed,
    range: [0, 100],
  },
];

function layoutOf(spec: ChartSpec, colour: ReturnType<typeof themeColours>, revision: number): Partial<Plotly.Layout> {
  const axis = {
    gridcolor: colour("--jp-border-color2", "#e0e0e0"),
    linecolor: colour("--jp-border-color1", "#bdbdbd"),
    zerolinecolor: colour("--jp-border-color1", "#bdbdbd"),
  };
  return {
    title: { text: spec.title, font: { size: 13 }, x: 0.02 },
    paper_bgcolor: colour("--jp-layout-color1", "white"),
    plot_bgcolor: colour("--jp-layout-color1", "white"),
    font: {
      color: colour("--jp-ui-font-color1", "black"),
      family: colour("--jp-ui-font-family", "sans-serif"),
      size: 11,
    },
    margin: { l: 56, r: 16, t: 36, b: 36 },
    xaxis: { ...axis, type: "date" },
    yaxis: { ...axis, title: { text: spec.unit }, ...(spec.range ? { range: spec.range } : {}) },
    showlegend: false,
    autosize: true,
    datarevision: revision,
  };
}

/**
 * The three metric charts (cumulative PnL, hot path p99, landed share) of one MetricsSeries. A draw
 * is asked for with `schedule()` and happens at most once a second, only while the charts are
 * visible; colours come from the theme at each draw, and a theme change asks for one.
 */
export class MetricsCharts extends Widget {
  private readonly divs = new Map<ChartSpec["key"], HTMLElement>();
  private timer?: number;
  private lastDraw = 0;
  private revision = 0;
  private dirty = false;
  private plotly?: Plotly;
  private readonly themeWatch = new MutationObserver(() => this.schedule());

  constructor(private readonly series: MetricsSeries) {
    super();
    this.addClass("mevlab-metrics-charts");
    for (const spec of CHARTS) {
      const div = el("div", { className: "mevlab-metrics-chart", dataset: { chart: spec.key, points: "0" } });
      this.divs.set(spec.key, div);
      this.node.append(div);
    }
    this.themeWatch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name"] });
  }

  override dispose(): void {
    this.themeWatch.disconnect();
    window.clearTimeout(this.timer);
    if (this.plotly) for (const div of this.divs.values()) this.plotly.purge(div);
    super.dispose();
  }

  /** Draws within the second (at once when the last draw is a second old); hidden, when next shown. */
  schedule(): void {
    this.dirty = true;
    if (!this.isVisible || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastDraw + 1_000 - Date.now());
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      void this.draw();
    }, wait);
  }

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.dirty) this.schedule();
  }

  protected override onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    if (!this.plotly || !this.isVisible) return;
    for (const div of this.divs.values()) void this.plotly.Plots.resize(div);
  }

  private async draw(): Promise<void> {
    if (!this.isVisible || this.isDisposed) return;
    this.lastDraw = Date.now();
    this.dirty = false;
    const plotly = (this.plotly ??= await loadPlotly());
    if (this.isDisposed) return;
    const colour = themeColours(this.node);
    const theme = document.body.dataset.jpThemeName ?? "";
    this.revision++;
    for (const spec of CHARTS) {
      const div = this.divs.get(spec.key)!;
      const y = spec.y(this.series);
      const trace: Partial<Plotly.PlotData> = {
        type: "scatter",
        mode: "lines",
        x: this.series.x,
        y,
        line: { color: colour(spec.colour, "#1976d2"), width: 1.5 },
        hovertemplate: `%{y:.4~f} ${spec.unit}<extra></extra>`,
      };
      await plotly.react(div, [trace], layoutOf(spec, colour, this.revision), {
        displaylogo: false,
        displayModeBar: false,
        responsive: false,
      });
      div.dataset.points = String(y.reduce<number>((n, v) => (v === null ? n : n + 1), 0));
      div.dataset.theme = theme;
    }
  }
}
