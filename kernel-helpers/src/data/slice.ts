/**
 * Slices of the event store as Arrow: from ClickHouse (`CLICKHOUSE_URL`, FORMAT ArrowStream) or, by
 * default, from the local Parquet store the control plane writes under its data dir. Every filter value
 * travels as a query parameter (ClickHouse `{p:Type}`, DuckDB `$p`), never inside the SQL text.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  Bool,
  Field,
  Float64,
  Int64,
  RecordBatch as RecordBatchClass,
  Schema,
  Struct,
  Table,
  makeData,
  Uint32,
  Uint64,
  Utf8,
  type DataType,
  type RecordBatch,
  type TypeMap,
} from "apache-arrow";
import { DataError } from "../errors";
import { ClickHouseSource, type ArrowCompression, type QueryParams } from "./clickhouse";
import { nativeDuck, type DuckParam, type NativeSession } from "./duck";
import { batchesToTable, type Progress, type ReadOptions } from "./progress";
import {
  CLICKHOUSE_TYPE,
  DUCKDB_TYPE,
  EVENT_TABLES,
  STREAM_ALIASES,
  streamTable,
  type ColumnType,
  type EventTable,
} from "./streams";

/** Dataset file formats and their compression. */
export type FileFormat = "parquet" | "jsonl";
export type FileCompression = "zstd" | "gzip" | "none";

export type TimeBound = Date | string | number;
export type Scalar = string | number | bigint | boolean;
/** A column condition: a value (equality) or operators. */
export type Condition =
  Scalar | { eq?: Scalar; ne?: Scalar; gt?: Scalar; gte?: Scalar; lt?: Scalar; lte?: Scalar; in?: readonly Scalar[] };

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

export interface DataSourceOptions {
  /** ClickHouse URL; default `process.env.CLICKHOUSE_URL`. Without one the local store is read. */
  clickhouseUrl?: string;
  /** The control plane's data dir (the store is `<dataDir>/events`); default `MEVLAB_DATA_DIR` or `.mevlab`. */
  dataDir?: string;
  /** Record-batch compression asked of ClickHouse (default `lz4_frame`). */
  arrowCompression?: ArrowCompression;
}

/** Where slices come from: ClickHouse or the local Parquet store. */
export class DataSource {
  readonly kind: "clickhouse" | "local";
  /** ClickHouse URL without the password, or the store directory. */
  readonly location: string;
  private readonly ch?: ClickHouseSource;
  private local?: Promise<NativeSession>;
  private readonly storeDir: string;

  constructor(options: DataSourceOptions = {}) {
    const url = options.clickhouseUrl ?? process.env.CLICKHOUSE_URL;
    this.storeDir = join(resolve(options.dataDir ?? process.env.MEVLAB_DATA_DIR ?? ".mevlab"), "events");
    if (url) {
      this.ch = new ClickHouseSource({ url, arrowCompression: options.arrowCompression });
      this.kind = "clickhouse";
      this.location = this.ch.displayUrl;
    } else {
      this.kind = "local";
      this.location = this.storeDir;
    }
  }

  /** The slice as one Arrow table. */
  async slice<T extends TypeMap = TypeMap>(spec: SliceSpec, options: ReadOptions = {}): Promise<Table<T>> {
    const plan = planSlice(spec);
    const table = await batchesToTable(this.planBatches<T>(plan, options));
    return table.numCols ? table : (new Table(emptySchema(plan)) as unknown as Table<T>);
  }

  /** The slice as a stream of record batches, with progress and cancellation. */
  async *sliceBatches<T extends TypeMap = TypeMap>(
    spec: SliceSpec,
    options: ReadOptions = {},
  ): AsyncGenerator<RecordBatch<T>> {
    yield* this.planBatches<T>(planSlice(spec), options);
  }

  private async *planBatches<T extends TypeMap>(plan: Plan, options: ReadOptions): AsyncGenerator<RecordBatch<T>> {
    if (this.ch) {
      // ClickHouse keeps booleans as UInt8: give them back as Arrow Bool, as the local store does.
      const bools = new Set(plan.columns.filter(([, t]) => t === "bool").map(([c]) => c));
      for await (const batch of this.ch.batches<T>(plan.clickhouse(this.ch.database), plan.chParams, options)) {
        yield bools.size ? (withBools(batch, bools) as RecordBatch<T>) : batch;
      }
      return;
    }
    const files = partitionFiles(this.storeDir, plan.table, plan.fromMs, plan.toMs);
    if (files.length === 0) {
      options.onProgress?.({ rows: 0, bytes: 0, batches: 0, done: true });
      return;
    }
    const db = await this.session();
    const progress: Progress = { rows: 0, bytes: 0, batches: 0, done: false };
    for await (const batch of db.batches<T>(plan.duckdb(files), plan.duckParams, options.signal)) {
      progress.rows += batch.numRows;
      progress.bytes += batch.data.byteLength;
      progress.batches++;
      options.onProgress?.({ ...progress });
      yield batch;
    }
    progress.done = true;
    options.onProgress?.({ ...progress });
  }

  /**
   * Writes the slice to `file` as Parquet or JSON lines with DuckDB and returns the rows written. The
   * columns get the local store's types whichever the source, so a dataset reads the same from both:
   * ClickHouse sends the slice as Parquet into a staging file first (its booleans are UInt8 there).
   */
  async writeSlice(
    spec: SliceSpec,
    file: string,
    options: {
      format: FileFormat;
      compression: FileCompression;
      signal?: AbortSignal;
      /** DuckDB's estimate while writing (0–100); bytes received while ClickHouse answers. */
      onProgress?: (p: { percent?: number; bytes?: number }) => void;
    },
  ): Promise<number> {
    const plan = planSlice(spec);
    const db = await this.session();
    const typed = (inner: string) =>
      `SELECT ${plan.columns.map(([c, t]) => `CAST(${c} AS ${DUCKDB_TYPE[t]}) AS ${c}`).join(", ")} FROM (${inner})`;
    let sql: string;
    let params: Record<string, DuckParam> = {};
    let staging: string | undefined;
    try {
      if (this.ch) {
        staging = `${file}.clickhouse.parquet`;
        await this.ch.download(plan.clickhouse(this.ch.database), plan.chParams, staging, {
          format: "Parquet",
          settings: { output_format_parquet_compression_method: "lz4", output_format_parquet_string_as_string: 1 },
          signal: options.signal,
          onBytes: (bytes) => options.onProgress?.({ bytes }),
        });
        sql = typed(`SELECT * FROM read_parquet(${lit(staging)})`);
      } else {
        const files = partitionFiles(this.storeDir, plan.table, plan.fromMs, plan.toMs);
        if (files.length) {
          sql = typed(plan.duckdb(files));
          params = plan.duckParams;
        } else {
          sql = `SELECT ${plan.columns.map(([c, t]) => `CAST(NULL AS ${DUCKDB_TYPE[t]}) AS ${c}`).join(", ")} WHERE false`;
        }
      }
      const c = options.compression;
      const to =
        options.format === "parquet"
          ? `(FORMAT parquet, COMPRESSION ${c === "none" ? "uncompressed" : c})`
          : `(FORMAT json, COMPRESSION ${c})`;
      return await db.exec(`COPY (${sql}) TO ${lit(file)} ${to}`, params, {
        signal: options.signal,
        onProgress: (percent) => options.onProgress?.({ percent }),
      });
    } finally {
      if (staging) rmSync(staging, { force: true });
    }
  }

  /**
   * Runs SQL with parameters. ClickHouse: its SQL with `{name:Type}` placeholders. Local store: DuckDB
   * SQL with `$name` placeholders over views named after the tables (`arb_opportunities`, …).
   */
  async query<T extends TypeMap = TypeMap>(
    sql: string,
    params: QueryParams = {},
    options: ReadOptions = {},
  ): Promise<Table<T>> {
    if (this.ch) return this.ch.table<T>(sql, params, options);
    const db = await this.session();
    for (const table of Object.keys(EVENT_TABLES)) {
      const files = partitionFiles(this.storeDir, table as EventTable, 0, Number.MAX_SAFE_INTEGER);
      // A table with no files yet is an empty view of the right columns, so queries over it still run.
      const columns = EVENT_TABLES[table as EventTable] as ReadonlyArray<readonly [string, ColumnType]>;
      await db.run(
        files.length
          ? `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_parquet([${files.map(lit).join(", ")}], union_by_name = true)`
          : `CREATE OR REPLACE VIEW ${table} AS SELECT ${columns.map(([c, t]) => `CAST(NULL AS ${DUCKDB_TYPE[t]}) AS ${c}`).join(", ")} WHERE false`,
      );
    }
    const duckParams: Record<string, DuckParam> = {};
    for (const [k, v] of Object.entries(params)) {
      duckParams[k] = v instanceof Date ? v.getTime() : (v as DuckParam);
    }
    return batchesToTable(db.batches<T>(sql, duckParams, options.signal));
  }

  async close(): Promise<void> {
    await this.ch?.close();
    if (this.local) await (await this.local).close();
  }

  private session(): Promise<NativeSession> {
    this.local ??= nativeDuck();
    return this.local;
  }
}

let shared: DataSource | undefined;

/** The notebook's default source (ClickHouse when CLICKHOUSE_URL is set, else the local store). */
export function dataSource(): DataSource {
  shared ??= new DataSource();
  return shared;
}

/** `dataSource().slice(spec)`. */
export function slice<T extends TypeMap = TypeMap>(spec: SliceSpec, options?: ReadOptions): Promise<Table<T>> {
  return dataSource().slice<T>(spec, options);
}

/** `dataSource().sliceBatches(spec)`. */
export function sliceBatches<T extends TypeMap = TypeMap>(
  spec: SliceSpec,
  options?: ReadOptions,
): AsyncGenerator<RecordBatch<T>> {
  return dataSource().sliceBatches<T>(spec, options);
}

/** `dataSource().query(sql, params)`. */
export function query<T extends TypeMap = TypeMap>(
  sql: string,
  params?: QueryParams,
  options?: ReadOptions,
): Promise<Table<T>> {
  return dataSource().query<T>(sql, params, options);
}

// ------------------------------------------------------------------------------------------------

interface Plan {
  table: EventTable;
  columns: Array<readonly [string, ColumnType]>;
  fromMs: number;
  toMs: number;
  chParams: QueryParams;
  duckParams: Record<string, DuckParam>;
  clickhouse(database: string): string;
  duckdb(files: string[]): string;
}

/** The WHERE conditions of a slice for both engines, their values bound as parameters. */
class Conditions {
  readonly ch: string[] = ["ts_ms >= {from_ms:UInt64}", "ts_ms < {to_ms:UInt64}"];
  readonly dk: string[] = ["ts_ms >= $from_ms", "ts_ms < $to_ms"];
  readonly chParams: QueryParams;
  readonly duckParams: Record<string, DuckParam>;
  private n = 0;

  constructor(fromMs: number, toMs: number) {
    this.chParams = { from_ms: fromMs, to_ms: toMs };
    this.duckParams = { from_ms: fromMs, to_ms: toMs };
  }

  add(ch: string, dk: string): void {
    this.ch.push(ch);
    this.dk.push(dk);
  }

  bind(value: Scalar | readonly Scalar[], chType: string): { ch: string; dk: string } {
    const name = `p${this.n++}`;
    // ClickHouse keeps booleans as UInt8
    this.chParams[name] = (
      typeof value === "boolean"
        ? Number(value)
        : Array.isArray(value)
          ? value.map((x) => (typeof x === "boolean" ? Number(x) : x))
          : value
    ) as never;
    this.duckParams[name] = value as DuckParam;
    return { ch: `{${name}:${chType}}`, dk: `$${name}` };
  }
}

const SLICE_FIELDS = new Set(["stream", "from", "to", "modules", "dex", "columns", "where", "limit"]);
const OPS: Record<string, string> = { eq: "=", ne: "!=", gt: ">", gte: ">=", lt: "<", lte: "<=" };

/** Validates a slice and turns it into SQL for both engines (values as parameters). */
export function planSlice(spec: SliceSpec): Plan {
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
      `SELECT ${list} FROM read_parquet([${files.map(lit).join(", ")}], union_by_name = true) ` +
      `WHERE ${cond.dk.join(" AND ")} ORDER BY ts_ms${limit}`,
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

function addModules(cond: Conditions, modules: unknown, table: EventTable): void {
  const mods = stringList(modules, "modules").map((m) => m.toLowerCase());
  for (const m of mods) {
    if (m !== "arbitrage" && m !== "mev")
      throw new DataError(`unknown module '${m}': use arbitrage, mev`, { field: "modules" });
  }
  if (table === "arb_opportunities" || table === "mev_opportunities") {
    if (!mods.includes(table === "arb_opportunities" ? "arbitrage" : "mev")) cond.add("0", "false");
  } else {
    const p = cond.bind(mods, "Array(String)");
    cond.add(`has(${p.ch}, module)`, `list_contains(${p.dk}, module)`);
  }
}

function addDex(cond: Conditions, dex: unknown, table: EventTable): void {
  const dexes = stringList(dex, "dex").map((d) => d.toLowerCase());
  const p = cond.bind(dexes, "Array(String)");
  if (table === "arb_opportunities") {
    cond.add(
      `hasAny(splitByChar(',', lower(dexes)), ${p.ch})`,
      `list_has_any(string_split(lower(dexes), ','), ${p.dk})`,
    );
  } else if (table === "mev_opportunities") {
    cond.add(`has(${p.ch}, lower(dex))`, `list_contains(${p.dk}, lower(dex))`);
  } else {
    throw new DataError(`'dex' filters the opportunity streams (arb, mev), not ${table}`, { field: "dex" });
  }
}

function addWhere(cond: Conditions, col: string, where: unknown, types: Map<string, ColumnType>): void {
  const t = types.get(col);
  if (!t)
    throw new DataError(`unknown column '${col}' in where (columns: ${[...types.keys()].join(", ")})`, {
      field: `where.${col}`,
    });
  const chType = CLICKHOUSE_TYPE[t];
  const conds = isScalar(where) ? { eq: where } : where;
  if (!conds || typeof conds !== "object" || Object.keys(conds).length === 0) {
    throw new DataError(`where.${col} must be a value or { eq | ne | gt | gte | lt | lte | in }`, {
      field: `where.${col}`,
    });
  }
  for (const [op, value] of Object.entries(conds)) {
    if (op === "in") {
      if (!Array.isArray(value) || value.length === 0 || !value.every(isScalar)) {
        throw new DataError(`where.${col}.in must be a non-empty list of values`, { field: `where.${col}` });
      }
      const p = cond.bind(value.map((v) => checkValue(v, t, col)) as Scalar[], `Array(${chType})`);
      cond.add(`has(${p.ch}, ${col})`, `list_contains(${p.dk}, ${col})`);
    } else if (OPS[op]) {
      const p = cond.bind(checkValue(value as Scalar, t, col), chType);
      cond.add(`${col} ${OPS[op]} ${p.ch}`, `${col} ${OPS[op]} ${p.dk}`);
    } else {
      throw new DataError(`where.${col}: unknown operator '${op}' (eq, ne, gt, gte, lt, lte, in)`, {
        field: `where.${col}`,
      });
    }
  }
}

function sliceLimit(limit: unknown): string {
  if (limit === undefined) return "";
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    throw new DataError(`'limit' must be a positive integer, not ${JSON.stringify(limit)}`, { field: "limit" });
  }
  return ` LIMIT ${limit as number}`;
}

function withBools(batch: RecordBatch, names: Set<string>): RecordBatch {
  const fields = batch.schema.fields.map((f) => (names.has(f.name) ? new Field(f.name, new Bool(), f.nullable) : f));
  const children = batch.schema.fields.map((f, i) => {
    const data = batch.data.children[i];
    if (!names.has(f.name) || !(data.values instanceof Uint8Array) || String(f.type) !== "Uint8") return data;
    const bits = new Uint8Array((data.length + 7) >> 3);
    for (let r = 0; r < data.length; r++) if (data.values[data.offset + r]) bits[r >> 3] |= 1 << (r & 7);
    return makeData({
      type: new Bool(),
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      data: bits,
    });
  });
  const schema = new Schema(fields);
  return new RecordBatchClass(
    schema,
    makeData({ type: new Struct(fields), length: batch.numRows, children, nullCount: 0 }),
  );
}

const ARROW_TYPE: Record<ColumnType, () => DataType> = {
  u64: () => new Uint64(),
  i64: () => new Int64(),
  u32: () => new Uint32(),
  f64: () => new Float64(),
  str: () => new Utf8(),
  bool: () => new Bool(),
};

function emptySchema(plan: Plan): Schema {
  return new Schema(plan.columns.map(([n, t]) => new Field(n, ARROW_TYPE[t](), true)));
}

/** The Parquet files of `table` whose date/hour partitions overlap [fromMs, toMs). */
export function partitionFiles(storeDir: string, table: EventTable, fromMs: number, toMs: number): string[] {
  const root = join(storeDir, table);
  if (!existsSync(root)) return [];
  const HOUR = 3_600_000;
  const lo = Math.floor(fromMs / HOUR) * HOUR;
  const out: string[] = [];
  for (const d of readdirSync(root)
    .filter((d) => d.startsWith("date="))
    .sort()) {
    for (const h of readdirSync(join(root, d))
      .filter((h) => h.startsWith("hour="))
      .sort()) {
      const start = Date.parse(`${d.slice(5)}T${h.slice(5).padStart(2, "0")}:00:00Z`);
      if (Number.isNaN(start) || start < lo || start >= toMs) continue;
      const dir = join(root, d, h);
      for (const f of readdirSync(dir).sort())
        if (f.startsWith("part-") && f.endsWith(".parquet")) out.push(join(dir, f));
    }
  }
  return out;
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

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x.trim() !== "")) {
    throw new DataError(`'${field}' must be a non-empty list of names`, { field });
  }
  return v.map((x: string) => x.trim());
}

function isScalar(v: unknown): v is Scalar {
  return ["string", "number", "bigint", "boolean"].includes(typeof v);
}

function checkValue(v: Scalar, t: ColumnType, col: string): Scalar {
  const bad = (what: string) =>
    new DataError(`where.${col}: ${JSON.stringify(String(v))} is not ${what}`, { field: `where.${col}` });
  switch (t) {
    case "str":
      if (typeof v !== "string") throw bad("a string");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw bad("true or false");
      return v;
    case "f64":
      if (typeof v !== "number" || !Number.isFinite(v)) throw bad("a finite number");
      return v;
    default: {
      const b = typeof v === "bigint" ? v : typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : null;
      if (b === null) throw bad("an integer");
      if ((t === "u64" || t === "u32") && b < 0n) throw bad("a non-negative integer");
      return b;
    }
  }
}

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
