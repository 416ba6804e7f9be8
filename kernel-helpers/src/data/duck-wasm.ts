/**
 * The `wasm` engine: DuckDB-WASM, in-process and blocking, memory capped at 4 GiB. Parquet files are
 * decoded with parquet-wasm (DuckDB-WASM's own Parquet extension is downloaded at run time, which a
 * machine without internet cannot do).
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tableToIPC, type Table, type TypeMap } from "apache-arrow";
import { DataError } from "../errors";
import { checkName, duckError, WASM_MEMORY_LIMIT, type DuckSession } from "./duck-session";

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

export class WasmSession implements DuckSession {
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
