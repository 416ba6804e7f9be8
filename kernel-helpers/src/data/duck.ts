/**
 * DuckDB in the kernel, returning Arrow. Two engines behind one interface:
 * - `wasm` (DuckDB-WASM, in-process and blocking): Arrow tables are registered as they are; Parquet
 *   files are decoded with parquet-wasm (DuckDB-WASM's own Parquet extension is downloaded at run time,
 *   which a machine without internet cannot do). Its memory is capped at 4 GiB.
 * - `native` (`@duckdb/node-api`): all cores, no memory cap, reads Parquet files in place; results are
 *   converted to Arrow column by column.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Bool,
  DataType,
  Date_,
  DateUnit,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
  type TypeMap,
} from "apache-arrow";
import { DataError } from "../errors";

export type DuckEngine = "wasm" | "native";

/** A value bound to a `$name` placeholder of the native engine. */
export type DuckParam = string | number | bigint | boolean | null | ReadonlyArray<string | number | bigint>;

/** DuckDB-WASM's linear memory limit: 4 GiB. */
export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;

export interface DuckSessionOptions {
  /** `wasm` (DuckDB-WASM) or `native` (@duckdb/node-api, all cores, no 4 GiB cap). Default `wasm`. */
  engine?: DuckEngine;
  /** Native engine only: threads (default: all cores). */
  threads?: number;
}

/** A DuckDB database in the kernel: register Arrow tables and Parquet files, run SQL, get Arrow back. */
export interface DuckSession {
  readonly engine: DuckEngine;
  /** The engine's version string. */
  readonly version: string;
  /** Makes `table` queryable as `name` (replacing an earlier one). */
  registerArrow(name: string, table: Table): Promise<void>;
  /** Makes Parquet file(s) queryable as `name`. */
  registerParquet(name: string, files: string | string[]): Promise<void>;
  /** Runs SQL and returns the result as an Arrow table. */
  sql<T extends TypeMap = TypeMap>(sql: string): Promise<Table<T>>;
  close(): Promise<void>;
}

/** Opens a DuckDB session (`engine: 'wasm'` by default). */
export async function duck(options: DuckSessionOptions = {}): Promise<DuckSession> {
  const engine = options.engine ?? "wasm";
  if (engine === "wasm") return WasmSession.open();
  if (engine === "native") return NativeSession.open(options.threads);
  throw new DataError(`engine must be 'wasm' or 'native', not ${JSON.stringify(engine)}`, { field: "engine" });
}

function checkName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new DataError(`table name ${JSON.stringify(name)} must be a plain identifier (letters, digits, _)`, {
      field: "name",
    });
  }
  return name;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function duckError(err: unknown, sql: string, engine: DuckEngine): Error {
  if (err instanceof DataError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  if (
    engine === "wasm" &&
    /out of memory|Out of Memory|memory access out of bounds|Cannot allocate|RangeError/i.test(msg)
  ) {
    return new DataError(
      `DuckDB-WASM ran out of memory (its limit is 4 GiB): ${msg}. Slice less (a shorter range, fewer columns, ` +
        "a LIMIT) or open the session with { engine: 'native' }",
      { cause: err },
    );
  }
  const first = sql.trim().split("\n")[0].slice(0, 120);
  return new DataError(`DuckDB (${engine}): ${msg} [${first}]`, { cause: err });
}

// ------------------------------------------------------------------------------------------------
// DuckDB-WASM

interface WasmConnection {
  query(sql: string): Table;
  insertArrowTable(table: Table, options: { name: string; create?: boolean }): void;
  insertArrowFromIPCStream(buffer: Uint8Array, options: { name: string; create?: boolean }): void;
  close(): void;
}
interface WasmDb {
  connect(): WasmConnection;
  getVersion(): string;
  reset(): void;
}

class WasmSession implements DuckSession {
  readonly engine = "wasm" as const;
  private bytesIn = 0;

  private constructor(
    private readonly db: WasmDb,
    private readonly conn: WasmConnection,
    readonly version: string,
  ) {}

  static async open(): Promise<WasmSession> {
    const duckdb =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs") as typeof import("@duckdb/duckdb-wasm/dist/duckdb-node-blocking");
    const dist = join(require.resolve("@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs"), "..");
    const bundles = {
      mvp: { mainModule: join(dist, "duckdb-mvp.wasm"), mainWorker: join(dist, "duckdb-node-mvp.worker.cjs") },
      eh: { mainModule: join(dist, "duckdb-eh.wasm"), mainWorker: join(dist, "duckdb-node-eh.worker.cjs") },
    };
    const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
    await db.instantiate(() => {});
    db.open({ query: { castBigIntToDouble: false, castDecimalToDouble: false } });
    const conn = db.connect() as unknown as WasmConnection;
    // No extension can be fetched here; fail at once instead of waiting on the network.
    conn.query("SET autoinstall_known_extensions = false");
    conn.query("SET autoload_known_extensions = false");
    return new WasmSession(db as unknown as WasmDb, conn, `DuckDB-WASM ${db.getVersion()}`);
  }

  private guard(bytes: number): void {
    if (this.bytesIn + bytes > WASM_MEMORY_LIMIT * 0.75) {
      throw new DataError(
        `registering ${(bytes / 2 ** 20).toFixed(0)} MiB more would put ${((this.bytesIn + bytes) / 2 ** 30).toFixed(2)} GiB ` +
          "into DuckDB-WASM, near its 4 GiB memory limit: slice less, or open the session with { engine: 'native' }",
        { field: "table" },
      );
    }
    this.bytesIn += bytes;
  }

  async registerArrow(name: string, table: Table): Promise<void> {
    checkName(name);
    const ipc = tableToIPC(table, "stream");
    this.guard(ipc.byteLength);
    try {
      this.conn.query(`DROP TABLE IF EXISTS "${name}"`);
      this.conn.insertArrowFromIPCStream(ipc, { name, create: true });
    } catch (err) {
      throw duckError(err, `register ${name}`, this.engine);
    }
  }

  async registerParquet(name: string, files: string | string[]): Promise<void> {
    checkName(name);
    const list = Array.isArray(files) ? files : [files];
    if (list.length === 0) throw new DataError(`no Parquet files to register as ${name}`, { field: "files" });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pw = require("parquet-wasm") as typeof import("parquet-wasm");
    try {
      this.conn.query(`DROP TABLE IF EXISTS "${name}"`);
      let first = true;
      for (const file of list) {
        const size = statSync(file).size;
        this.guard(size);
        const ipc = pw.readParquet(new Uint8Array(readFileSync(file))).intoIPCStream();
        this.conn.insertArrowFromIPCStream(ipc, { name, create: first });
        first = false;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new DataError(`Parquet file not found: ${(err as NodeJS.ErrnoException).path}`, { field: "files" });
      }
      throw duckError(err, `register ${name}`, this.engine);
    }
  }

  async sql<T extends TypeMap = TypeMap>(sql: string): Promise<Table<T>> {
    try {
      // DuckDB-WASM builds its tables with the same apache-arrow as this package (one version in the tree).
      return this.conn.query(sql) as unknown as Table<T>;
    } catch (err) {
      throw duckError(err, sql, this.engine);
    }
  }

  async close(): Promise<void> {
    this.conn.close();
    this.db.reset();
  }
}

// ------------------------------------------------------------------------------------------------
// Native DuckDB

type NodeApi = typeof import("@duckdb/node-api");

class NativeSession implements DuckSession {
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
export type { NativeSession };

interface ColumnConverter {
  type: DataType;
  build(
    vectors: ReadonlyArray<{ itemCount: number; getItem(i: number): unknown }>,
    rows: number,
  ): ReturnType<typeof makeData>;
}

/** How one DuckDB column type becomes an Arrow column: typed-array copies for fixed-width types, values otherwise. */
function columnFor(api: NodeApi, id: number): ColumnConverter {
  const T = api.DuckDBTypeId;
  const fixed = (
    type: DataType,
    Ctor: new (n: number) => ArrayLike<unknown> & { set(a: ArrayLike<unknown>, o: number): void },
  ) => ({
    type,
    build(vectors: ReadonlyArray<{ itemCount: number; getItem(i: number): unknown }>, rows: number) {
      const values = new Ctor(rows);
      const valid = new Uint8Array((rows + 7) >> 3);
      let o = 0;
      let nulls = 0;
      for (const v of vectors) {
        const items = (v as unknown as { items: ArrayLike<unknown> }).items;
        values.set(items, o);
        nulls += copyValidity(v, valid, o);
        o += v.itemCount;
      }
      return makeData({
        type,
        length: rows,
        nullCount: nulls,
        data: values as never,
        nullBitmap: nulls ? valid : undefined,
      } as never);
    },
  });
  switch (id) {
    case T.TINYINT:
      return fixed(new Int8(), Int8Array as never);
    case T.SMALLINT:
      return fixed(new Int16(), Int16Array as never);
    case T.INTEGER:
      return fixed(new Int32(), Int32Array as never);
    case T.BIGINT:
      return fixed(new Int64(), BigInt64Array as never);
    case T.UTINYINT:
      return fixed(new Uint8(), Uint8Array as never);
    case T.USMALLINT:
      return fixed(new Uint16(), Uint16Array as never);
    case T.UINTEGER:
      return fixed(new Uint32(), Uint32Array as never);
    case T.UBIGINT:
      return fixed(new Uint64(), BigUint64Array as never);
    case T.FLOAT:
      return fixed(new Float32(), Float32Array as never);
    case T.DOUBLE:
      return fixed(new Float64(), Float64Array as never);
    case T.DATE:
      return fixed(new Date_(DateUnit.DAY), Int32Array as never);
    case T.TIMESTAMP:
    case T.TIMESTAMP_TZ:
      return fixed(new Timestamp(TimeUnit.MICROSECOND, id === T.TIMESTAMP_TZ ? "UTC" : null), BigInt64Array as never);
    case T.TIMESTAMP_MS:
      return fixed(new Timestamp(TimeUnit.MILLISECOND), BigInt64Array as never);
    case T.TIMESTAMP_S:
      return fixed(new Timestamp(TimeUnit.SECOND), BigInt64Array as never);
    case T.TIMESTAMP_NS:
      return fixed(new Timestamp(TimeUnit.NANOSECOND), BigInt64Array as never);
    case T.BOOLEAN:
      return byValue(new Bool(), (v) => v as boolean);
    case T.VARCHAR:
      return byValue(new Utf8(), (v) => v as string);
    default:
      return byValue(new Utf8(), (v) => String(v));
  }
}

function byValue(type: DataType, conv: (v: unknown) => unknown): ColumnConverter {
  return {
    type,
    build(vectors) {
      const values: unknown[] = [];
      for (const v of vectors) {
        for (let i = 0; i < v.itemCount; i++) {
          const x = v.getItem(i);
          values.push(x === null || x === undefined ? null : conv(x));
        }
      }
      return vectorFromArray(values, type).data[0];
    },
  };
}

/** Copies a DuckDB validity mask (64-bit words, LSB first, like Arrow's) into `valid` at bit `at`; returns the nulls. */
function copyValidity(v: { itemCount: number }, valid: Uint8Array, at: number): number {
  const validity = (v as unknown as { validity: { data: BigUint64Array | null; offset: number } }).validity;
  const n = v.itemCount;
  if (!validity.data) {
    setBits(valid, at, n);
    return 0;
  }
  const bytes = new Uint8Array(validity.data.buffer, validity.data.byteOffset, validity.data.byteLength);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const bit = validity.offset + i;
    if (bytes[bit >> 3] & (1 << (bit & 7))) valid[(at + i) >> 3] |= 1 << ((at + i) & 7);
    else nulls++;
  }
  return nulls;
}

function setBits(valid: Uint8Array, at: number, n: number): void {
  let i = at;
  const end = at + n;
  while (i < end && i & 7) valid[i >> 3] |= 1 << (i++ & 7);
  while (i + 8 <= end) {
    valid[i >> 3] = 0xff;
    i += 8;
  }
  while (i < end) valid[i >> 3] |= 1 << (i++ & 7);
}
