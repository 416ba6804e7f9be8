/**
 * Charts in notebooks: plotly figures shown through the `application/vnd.plotly.v1+json` MIME type,
 * which JupyterLab draws with the plotly renderer installed in the project venv. Values from Arrow
 * tables become plain numbers and strings (64-bit integers as numbers: for drawing, not for sums).
 */
import type { Table } from "apache-arrow";
import { DataError } from "../errors";

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

export interface PlotlyFigure {
  data: Array<Record<string, unknown>>;
  layout?: Record<string, unknown>;
}

/** A column as plain values for a chart: BigInts become numbers, Dates ISO strings, nulls stay null. */
export function columnValues(table: Table, name: string): Array<number | string | boolean | null> {
  const col = table.getChild(name);
  if (!col) {
    throw new DataError(`no column '${name}' (columns: ${table.schema.fields.map((f) => f.name).join(", ")})`, {
      field: name,
    });
  }
  const out: Array<number | string | boolean | null> = new Array(col.length);
  for (let i = 0; i < col.length; i++) {
    const v: unknown = col.get(i);
    out[i] =
      v === null || v === undefined
        ? null
        : typeof v === "bigint"
          ? Number(v)
          : v instanceof Date
            ? v.toISOString()
            : (v as number | string | boolean);
  }
  return out;
}

/** The display bundle of a figure: the plotly JSON and a one-line text for consoles. */
export function plotlyBundle(figure: PlotlyFigure): Record<string, unknown> {
  if (!figure || !Array.isArray(figure.data)) throw new DataError("a plotly figure needs { data: [...] }");
  const plain = JSON.parse(JSON.stringify(figure, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v)));
  const title = (figure.layout?.title as { text?: string } | string | undefined) ?? "";
  return {
    [PLOTLY_MIME]: plain,
    "text/plain": `plotly figure${typeof title === "string" ? (title ? `: ${title}` : "") : title.text ? `: ${title.text}` : ""} (${figure.data.length} trace${figure.data.length === 1 ? "" : "s"})`,
  };
}

/** Shows a figure in the tslab kernel's output. */
export function showPlotly(figure: PlotlyFigure): void {
  let tslab: { display: { raw(type: string, value: unknown): void } };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tslab = require("tslab");
  } catch (err) {
    throw new DataError("showPlotly draws in a tslab notebook; use plotlyBundle(figure) elsewhere", { cause: err });
  }
  // tslab sends the value as it is: an object for the JSON MIME type, as Jupyter expects.
  tslab.display.raw(PLOTLY_MIME, plotlyBundle(figure)[PLOTLY_MIME]);
}
