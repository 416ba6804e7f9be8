/**
 * What both DuckDB engines share: the `DuckSession` interface, its engine and parameter types, and
 * the checks and error wording each engine uses.
 */
import type { Table, TypeMap } from "apache-arrow";
import { DataError } from "../errors";

export type DuckEngine = "wasm" | "native";

/** A value bound to a `$name` placeholder of the native engine. */
export type DuckParam = string | number | bigint | boolean | null | ReadonlyArray<string | number | bigint>;

/** DuckDB-WASM's linear memory limit: 4 GiB. */
export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;

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

/** `name` when it is a plain identifier, safe inside double quotes. */
export function checkName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new DataError(`table name ${JSON.stringify(name)} must be a plain identifier (letters, digits, _)`, {
      field: "name",
    });
  }
  return name;
}

/** A SQL string literal: `s` in single quotes, quotes inside doubled. */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A DuckDB failure as a `DataError` naming the statement; DuckDB-WASM running out of memory says what to do. */
export function duckError(err: unknown, sql: string, engine: DuckEngine): Error {
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
