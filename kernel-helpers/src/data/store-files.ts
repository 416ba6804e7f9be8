/** The control plane's local Parquet store on disk: `<table>/date=YYYY-MM-DD/hour=H/part-*.parquet`. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { EventTable } from "./streams";

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
