/** A slice spec validated and turned into SQL for both engines, every filter value bound as a parameter. */
import { DataError } from "../errors";
import type { QueryParams } from "./clickhouse";
import type { DuckParam } from "./duck-session";
import { addDex, addModules, addWhere, Conditions, type Condition } from "./slice-filters";
import { storeRelation } from "./store-files";
import { EVENT_TABLES, STREAM_ALIASES, streamTable, type ColumnType, type EventTable } from "./streams";

export type TimeBound = Date | string | number;

export interface SliceSpec {
  /** `arb`, `mev`, `outcomes`, `metrics` or a table name (`arb_opportunities`, …). */
  stream: string;
  /** Inclusive start: a Date, unix ms, or an ISO date / date-time (UTC unless it says otherwise). */
  from: TimeBound;
  /** Exclusive end. */
  to: TimeBound;
  /** `arbitrage` / `mev`: the opportunity streams belong to one module each; outcomes and metrics have a column. */
  modules?: readonly string[];
  /** DEX names, case-insensitive (arb: any hop on one of them; mev: the pool's DEX). */
  dex?: readonly string[];
  /** Columns to return (default all; `ts_ms` first). */
  columns?: readonly string[];
  /** Column conditions, e.g. `{ landed: true, net_sol: { gte: 0.01 } }`. */
  where?: Readonly<Record<string, Condition>>;
  /** At most this many rows (the earliest, by ts_ms). */
  limit?: number;
}

export interface SlicePlan {
  table: EventTable;
  columns: Array<readonly [string, ColumnType]>;
  fromMs: number;
  toMs: number;
  chParams: QueryParams;
  duckParams: Record<string, DuckParam>;
  clickhouse(database: string): string;
  duckdb(files: string[]): string;
}

const SLICE_FIELDS = new Set(["stream", "from", "to", "modules", "dex", "columns", "where", "limit"]);

/** Validates a slice and turns it into SQL for both engines (values as parameters). */
export function planSlice(spec: SliceSpec): SlicePlan {
  const table = sliceTable(spec);
  const all = EVENT_TABLES[table] as ReadonlyArray<readonly [string, ColumnType]>;
  const types = new Map(all.map(([n, t]) => [n, t]));
  const fromMs = timeOf(spec.from, "from");
  const toMs = timeOf(spec.to, "to");
  if (!(fromMs < toMs))
    throw new DataError(`'from' (${iso(fromMs)}) must be before 'to' (${iso(toMs)})`, { field: "from" });
  const columns = sliceColumns(spec, table, all, types);
  const cond = new Conditions(fromMs, toMs);
  if (spec.modules !== undefined) addModules(cond, spec.modules, table);
  if (spec.dex !== undefined) addDex(cond, spec.dex, table);
  for (const [col, where] of Object.entries(spec.where ?? {})) addWhere(cond, col, where, types);
  const limit = sliceLimit(spec.limit);
  const list = columns.map(([c]) => c).join(", ");
  return {
    table,
    columns,
    fromMs,
    toMs,
    chParams: cond.chParams,
    duckParams: cond.duckParams,
    clickhouse: (database) =>
      `SELECT ${list} FROM ${database}.${table} WHERE ${cond.ch.join(" AND ")} ORDER BY ts_ms${limit}`,
    duckdb: (files) =>
      `SELECT ${list} FROM ${storeRelation(table, files)} WHERE ${cond.dk.join(" AND ")} ORDER BY ts_ms${limit}`,
  };
}

function sliceTable(spec: SliceSpec): EventTable {
  if (!spec || typeof spec !== "object") throw new DataError("slice needs { stream, from, to, … }", { field: "spec" });
  for (const k of Object.keys(spec)) {
    if (!SLICE_FIELDS.has(k))
      throw new DataError(`unknown slice field '${k}' (known: ${[...SLICE_FIELDS].join(", ")})`, { field: k });
  }
  const table = streamTable(spec.stream);
  if (!table) {
    throw new DataError(
      `unknown stream ${JSON.stringify(spec.stream)}: use ${Object.keys(STREAM_ALIASES).join(", ")}`,
      {
        field: "stream",
      },
    );
  }
  return table;
}

function sliceColumns(
  spec: SliceSpec,
  table: EventTable,
  all: ReadonlyArray<readonly [string, ColumnType]>,
  types: Map<string, ColumnType>,
): Array<readonly [string, ColumnType]> {
  if (spec.columns === undefined) return all.slice();
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) {
    throw new DataError("'columns' must be a non-empty list of column names", { field: "columns" });
  }
  return spec.columns.map((c) => {
    const t = types.get(c);
    if (!t)
      throw new DataError(`unknown column '${c}' in ${table} (columns: ${[...types.keys()].join(", ")})`, {
        field: "columns",
      });
    return [c, t] as const;
  });
}

function sliceLimit(limit: unknown): string {
  if (limit === undefined) return "";
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    throw new DataError(`'limit' must be a positive integer, not ${JSON.stringify(limit)}`, { field: "limit" });
  }
  return ` LIMIT ${limit as number}`;
}

function timeOf(v: TimeBound, field: string): number {
  let ms: number;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === "number") ms = v;
  else if (typeof v === "string" && v.trim() !== "") {
    const s = v.trim();
    ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T00:00:00Z` : s);
  } else ms = NaN;
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
    throw new DataError(`'${field}' must be a Date, unix milliseconds or an ISO date, not ${JSON.stringify(v)}`, {
      field,
    });
  }
  return Math.floor(ms);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
