import { Counter, Gauge, Histogram, type Registry } from "prom-client";

// prom-client metrics whose samples are read at scrape time from state the control plane keeps
// anyway (rolling totals, hub and sink statistics), instead of being incremented twice.

export type Labels = Record<string, string>;
// prom-client's typings name the exposition type with a numeric enum; at run time it is the text.
type CounterData = Awaited<ReturnType<Counter["get"]>>;
type HistogramData = Awaited<ReturnType<Histogram["get"]>>;
type HistogramValue = HistogramData["values"][number];
export type Sample = [Labels, number | bigint];

interface Mirror {
  name: string;
  help: string;
  registry: Registry;
  labelNames?: readonly string[];
  read: () => Sample[];
}

export function mirrorGauge(m: Mirror): Gauge {
  return new Gauge({
    name: m.name,
    help: m.help,
    labelNames: m.labelNames ?? [],
    registers: [m.registry],
    collect() {
      this.reset();
      for (const [labels, v] of m.read()) this.set(labels, Number(v));
    },
  });
}

/**
 * A counter of totals kept elsewhere. Its samples are the totals as they are: prom-client's `inc`
 * refuses to go down, and a net PnL total may.
 */
class MirroredCounter extends Counter {
  constructor(private readonly m: Mirror) {
    super({ name: m.name, help: m.help, labelNames: m.labelNames ?? [], registers: [m.registry] });
  }

  override async get(): Promise<CounterData> {
    const values = this.m.read().map(([labels, v]) => ({ labels, value: Number(v) }));
    return {
      name: this.m.name,
      help: this.m.help,
      type: "counter",
      aggregator: "sum",
      values,
    } as unknown as CounterData;
  }
}

export const mirrorCounter = (m: Mirror): Counter => new MirroredCounter(m);

export interface HistogramSeries {
  labels: Labels;
  /** Per-bucket counts (not cumulative), one more than the bounds: the last is above every bound. */
  counts: readonly number[];
  sum: number;
}

/** A histogram of bucket counts aggregated elsewhere (the agents' latency histograms). */
class MirroredHistogram extends Histogram {
  constructor(
    private readonly m: Omit<Mirror, "read">,
    private readonly bounds: readonly number[],
    private readonly series: () => HistogramSeries[],
  ) {
    super({
      name: m.name,
      help: m.help,
      labelNames: m.labelNames ?? [],
      buckets: [...bounds],
      registers: [m.registry],
    });
  }

  override async get(): Promise<HistogramData> {
    const values: HistogramValue[] = [];
    for (const { labels, counts, sum } of this.series()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += counts[i];
        values.push({
          metricName: `${this.m.name}_bucket`,
          labels: { ...labels, le: String(bound) },
          value: cumulative,
        });
      });
      cumulative += counts[counts.length - 1];
      values.push({ metricName: `${this.m.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: cumulative });
      values.push({ metricName: `${this.m.name}_sum`, labels, value: sum });
      values.push({ metricName: `${this.m.name}_count`, labels, value: cumulative });
    }
    const data = { name: this.m.name, help: this.m.help, type: "histogram", aggregator: "sum", values };
    return data as unknown as HistogramData;
  }

  /** What the registry reads for the text exposition of a histogram (untyped in prom-client). */
  getForPromString(): Promise<HistogramData> {
    return this.get();
  }
}

export const mirrorHistogram = (
  m: Omit<Mirror, "read">,
  bounds: readonly number[],
  series: () => HistogramSeries[],
): Histogram => new MirroredHistogram(m, bounds, series);
