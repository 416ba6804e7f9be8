/** Arrow columns as numbers for a model and the metrics: nulls become NaN, 64-bit integers doubles. */
import type { Table } from "apache-arrow";
import { DataError } from "../errors";

function column(table: Table, name: string) {
  const col = table.getChild(name);
  if (!col) {
    const names = table.schema.fields.map((f) => f.name).join(", ");
    throw new DataError(`evaluate: the table has no column '${name}' (columns: ${names})`, { field: name });
  }
  return col;
}

/** One column as doubles; null is NaN, booleans are 0 / 1. Text columns are refused. */
export function numericColumn(table: Table, name: string): Float64Array {
  const col = column(table, name);
  const out = new Float64Array(col.length);
  let i = 0;
  for (const v of col) {
    out[i++] =
      v === null || v === undefined
        ? NaN
        : typeof v === "number"
          ? v
          : typeof v === "bigint"
            ? Number(v)
            : typeof v === "boolean"
              ? Number(v)
              : notNumeric(name, v);
  }
  return out;
}

function notNumeric(name: string, v: unknown): never {
  throw new DataError(`evaluate: column '${name}' is not numeric (a value: ${JSON.stringify(String(v))})`, {
    field: name,
  });
}

/** The label as 0 / 1; a null or any other value is refused, as the trainer refuses it. */
export function labelColumn(table: Table, name: string): Uint8Array {
  const v = numericColumn(table, name);
  const y = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0 && v[i] !== 1) {
      throw new DataError(`evaluate: label '${name}' must be 0 / 1 or boolean, row ${i} is ${v[i]}`, { field: name });
    }
    y[i] = v[i];
  }
  return y;
}

/** Row-major float32 [rows, features], the model's input, in the model's feature order. */
export function featureMatrix(table: Table, features: readonly string[]): Float32Array {
  const x = new Float32Array(table.numRows * features.length);
  features.forEach((name, j) => {
    const v = numericColumn(table, name);
    for (let i = 0; i < v.length; i++) x[i * features.length + j] = v[i];
  });
  return x;
}

/** Indices of the rows whose time lies in [from, to] (the card's split bounds: numbers or ISO strings). */
export function rowsInRange(table: Table, timeColumn: string, from: number | string, to: number | string): number[] {
  const t = numericColumn(table, timeColumn);
  const asMs = (b: number | string) => (typeof b === "number" ? b : Date.parse(b));
  const lo = asMs(from);
  const hi = asMs(to);
  const out: number[] = [];
  for (let i = 0; i < t.length; i++) if (t[i] >= lo && t[i] <= hi) out.push(i);
  return out;
}
