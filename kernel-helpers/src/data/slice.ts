/**
 * Slices of the event store as Arrow: from ClickHouse (`CLICKHOUSE_URL`, FORMAT ArrowStream) or, by
 * default, from the local Parquet store the control plane writes under its data dir. Every filter value
 * travels as a query parameter (ClickHouse `{p:Type}`, DuckDB `$p`), never inside the SQL text.
 */
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Table, type RecordBatch, type TypeMap } from "apache-arrow";
import { ClickHouseSource, type ArrowCompression, type QueryParams } from "./clickhouse";
import { nativeDuck, type NativeSession } from "./duck-native";
import { quoteLiteral, type DuckParam } from "./duck-session";
import { batchesToTable, type Progress, type ReadOptions } from "./progress";
import { emptySchema, withBools } from "./slice-arrow";
import { planSlice, type SliceSpec, type SlicePlan } from "./slice-plan";
import { partitionFiles, storeRelation } from "./store-files";
import { DUCKDB_TYPE, EVENT_TABLES, type ColumnType, type EventTable } from "./streams";

export type { Condition, Scalar } from "./slice-filters";
export { planSlice, type SliceSpec, type TimeBound } from "./slice-plan";
export { partitionFiles } from "./store-files";

/** Dataset file formats and their compression. */
export type FileFormat = "parquet" | "jsonl";
export type FileCompression = "zstd" | "gzip" | "none";

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

  private async *planBatches<T extends TypeMap>(plan: SlicePlan, options: ReadOptions): AsyncGenerator<RecordBatch<T>> {
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
        sql = typed(`SELECT * FROM read_parquet(${quoteLiteral(staging)})`);
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
      return await db.exec(`COPY (${sql}) TO ${quoteLiteral(file)} ${to}`, params, {
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
          ? `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM ${storeRelation(table as EventTable, files)}`
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
