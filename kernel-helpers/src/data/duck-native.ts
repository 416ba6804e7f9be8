/**
 * The `native` engine (`@duckdb/node-api`): all cores, no memory cap, reads Parquet files in place;
 * results are converted to Arrow column by column (`duck-columns.ts`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Field, RecordBatch, Schema, Struct, Table, makeData, tableToIPC, type TypeMap } from "apache-arrow";
import { DataError } from "../errors";
import { columnFor, type NodeApi } from "./duck-columns";
import { checkName, duckError, quoteLiteral, type DuckParam, type DuckSession } from "./duck-session";

export class NativeSession implements DuckSession {
  readonly engine = "native" as const;

  private constructor(
    private readonly api: NodeApi,
    private readonly instance: import("@duckdb/node-api").DuckDBInstance,
    private readonly conn: import("@duckdb/node-api").DuckDBConnection,
    readonly version: string,
  ) {}

  static async open(threads?: number): Promise<NativeSession> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require("@duckdb/node-api") as NodeApi;
    const instance = await api.DuckDBInstance.create(":memory:", threads ? { threads: String(threads) } : {});
    const conn = await instance.connect();
    await conn.run("SET autoinstall_known_extensions = false");
    return new NativeSession(api, instance, conn, `DuckDB ${api.version()}`);
  }

  async registerArrow(name: string, table: Table): Promise<void> {
    checkName(name);
    // Arrow → Parquet (uncompressed, parquet-wasm) in a temporary file → a DuckDB table: types kept, no per-value work.
    const dir = mkdtempSync(join(tmpdir(), "mevlab-duck-"));
    const file = join(dir, `${name}.parquet`);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pw = require("parquet-wasm") as typeof import("parquet-wasm");
      const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.UNCOMPRESSED).build();
      writeFileSync(file, pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, "stream")), props));
      await this.conn.run(`DROP VIEW IF EXISTS "${name}"`);
      await this.conn.run(`CREATE OR REPLACE TABLE "${name}" AS SELECT * FROM read_parquet(${quoteLiteral(file)})`);
    } catch (err) {
      throw duckError(err, `register ${name}`, this.engine);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async registerParquet(name: string, files: string | string[]): Promise<void> {
    checkName(name);
    const list = (Array.isArray(files) ? files : [files]).map(quoteLiteral);
    if (list.length === 0) throw new DataError(`no Parquet files to register as ${name}`, { field: "files" });
    try {
      await this.conn.run(`DROP TABLE IF EXISTS "${name}"`);
      await this.conn.run(`CREATE OR REPLACE VIEW "${name}" AS SELECT * FROM read_parquet([${list.join(", ")}])`);
    } catch (err) {
      throw duckError(err, `register ${name}`, this.engine);
    }
  }

  async sql<T extends TypeMap = TypeMap>(sql: string): Promise<Table<T>> {
    const batches: RecordBatch<T>[] = [];
    for await (const b of this.batches<T>(sql)) batches.push(b);
    return batches.length ? new Table<T>(batches) : new Table<T>();
  }

  /** Streams the result as Arrow record batches of about 64k rows. */
  async *batches<T extends TypeMap = TypeMap>(
    sql: string,
    params?: Record<string, DuckParam>,
    signal?: AbortSignal,
  ): AsyncGenerator<RecordBatch<T>> {
    let result: import("@duckdb/node-api").DuckDBResult;
    try {
      result = await this.conn.stream(sql, params && this.values(params));
    } catch (err) {
      throw duckError(err, sql, this.engine);
    }
    const names = result.columnNames();
    const ids = names.map((_, i) => result.columnTypeId(i));
    const cols = ids.map((id) => columnFor(this.api, id));
    const schema = new Schema(names.map((n, i) => new Field(n, cols[i].type, true)));
    let pending: import("@duckdb/node-api").DuckDBDataChunk[] = [];
    let rows = 0;
    const flush = (): RecordBatch<T> => {
      const data = cols.map((c, i) =>
        c.build(
          pending.map((ch) => ch.getColumnVector(i)),
          rows,
        ),
      );
      pending = [];
      const batch = new RecordBatch<T>(
        schema as unknown as Schema<T>,
        makeData({ type: new Struct(schema.fields), length: rows, children: data, nullCount: 0 }) as never,
      );
      rows = 0;
      return batch;
    };
    for (;;) {
      if (signal?.aborted) throw new DataError("query cancelled");
      let chunk: import("@duckdb/node-api").DuckDBDataChunk | null;
      try {
        chunk = await result.fetchChunk();
      } catch (err) {
        throw duckError(err, sql, this.engine);
      }
      if (!chunk || chunk.rowCount === 0) break;
      pending.push(chunk);
      rows += chunk.rowCount;
      if (rows >= 65536) yield flush();
    }
    if (rows > 0) yield flush();
  }

  private values(params: Record<string, DuckParam>): Record<string, import("@duckdb/node-api").DuckDBValue> {
    const out: Record<string, import("@duckdb/node-api").DuckDBValue> = {};
    for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? this.api.listValue(v) : (v as never);
    return out;
  }

  /**
   * Runs a statement (COPY, CREATE …) and returns the rows it changed or wrote. `signal` interrupts it;
   * `onProgress` gets DuckDB's own estimate (0–100) while it runs.
   */
  async exec(
    sql: string,
    params?: Record<string, DuckParam>,
    options: { signal?: AbortSignal; onProgress?: (percent: number) => void } = {},
  ): Promise<number> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new DataError("cancelled");
    const interrupt = () => this.conn.interrupt();
    signal?.addEventListener("abort", interrupt, { once: true });
    const timer = onProgress
      ? setInterval(() => {
          const p = this.conn.progress.percentage;
          if (p >= 0) onProgress(p);
        }, 200)
      : undefined;
    try {
      const result = await this.conn.run(sql, params && this.values(params));
      return result.rowsChanged;
    } catch (err) {
      if (signal?.aborted) throw new DataError("cancelled", { cause: err });
      throw duckError(err, sql, this.engine);
    } finally {
      clearInterval(timer);
      signal?.removeEventListener("abort", interrupt);
    }
  }

  /** Runs a statement without a result (COPY, CREATE …). */
  async run(sql: string, params?: Record<string, DuckParam>): Promise<void> {
    try {
      await this.conn.run(sql, params && this.values(params));
    } catch (err) {
      throw duckError(err, sql, this.engine);
    }
  }

  async close(): Promise<void> {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** Opens a native session directly (for library code that needs `batches` / `run`). */
export function nativeDuck(threads?: number): Promise<NativeSession> {
  return NativeSession.open(threads);
}
