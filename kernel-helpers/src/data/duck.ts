/**
 * DuckDB in the kernel, returning Arrow. Two engines behind one interface:
 * - `wasm` (DuckDB-WASM, in-process and blocking): Arrow tables are registered as they are; Parquet
 *   files are decoded with parquet-wasm (DuckDB-WASM's own Parquet extension is downloaded at run time,
 *   which a machine without internet cannot do). Its memory is capped at 4 GiB.
 * - `native` (`@duckdb/node-api`): all cores, no memory cap, reads Parquet files in place; results are
 *   converted to Arrow column by column.
 * Each engine has its own module (`duck-wasm.ts`, `duck-native.ts`) behind `DuckSession` (`duck-session.ts`).
 */
import { DataError } from "../errors";
import { NativeSession } from "./duck-native";
import type { DuckEngine, DuckSession } from "./duck-session";
import { WasmSession } from "./duck-wasm";

export { WASM_MEMORY_LIMIT, type DuckEngine, type DuckParam, type DuckSession } from "./duck-session";
export { nativeDuck, type NativeSession } from "./duck-native";

export interface DuckSessionOptions {
  /** `wasm` (DuckDB-WASM) or `native` (@duckdb/node-api, all cores, no 4 GiB cap). Default `wasm`. */
  engine?: DuckEngine;
  /** Native engine only: threads (default: all cores). */
  threads?: number;
}

/** Opens a DuckDB session (`engine: 'wasm'` by default). */
export async function duck(options: DuckSessionOptions = {}): Promise<DuckSession> {
  const engine = options.engine ?? "wasm";
  if (engine === "wasm") return WasmSession.open();
  if (engine === "native") return NativeSession.open(options.threads);
  throw new DataError(`engine must be 'wasm' or 'native', not ${JSON.stringify(engine)}`, { field: "engine" });
}
