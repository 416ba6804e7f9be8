/** The control plane's local Parquet store on disk: `<table>/date=YYYY-MM-DD/hour=H/part-*.parquet`. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { quoteLiteral } from "./duck-session";
import { ADDED_COLUMNS, DUCKDB_TYPE, EVENT_TABLES, type ColumnType, type EventTable } from "./streams";

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

/**
 * The files of `table` as one DuckDB relation. A table with columns added since its first release
 * gets every column, typed: parts written before a column existed give NULL there instead of failing
 * the query. DuckDB drops the empty side and still pushes projections and filters into the scan.
 */
export function storeRelation(table: EventTable, files: readonly string[]): string {
  const parts = `read_parquet([${files.map(quoteLiteral).join(", ")}], union_by_name = true)`;
  const columns = EVENT_TABLES[table] as ReadonlyArray<readonly [string, ColumnType]>;
  if (!columns.some(([c]) => ADDED_COLUMNS.has(c))) return parts;
  const typed = columns.map(([c, t]) => `CAST(NULL AS ${DUCKDB_TYPE[t]}) AS ${c}`).join(", ");
  return `(SELECT ${typed} WHERE false UNION ALL BY NAME SELECT * FROM ${parts})`;
}
