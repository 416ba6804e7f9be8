// bench:slice — Arrow decode rate of ClickHouse ArrowStream bytes (made by chDB, ClickHouse's engine,
// none / LZ4 frame / ZSTD), DuckDB-WASM vs native DuckDB on the same group-by over the same 5M rows,
// and a Parquet (zstd) dataset export of 5M rows vs DuckDB's own COPY of the same selection.
// Usage: npm run bench:slice -- [--json] [--rows 5000000] [--runs 3]
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DataSource,
  EVENT_TABLES,
  duck,
  exportDataset,
  nativeDuck,
  partitionFiles,
  readArrowStream,
  type DuckEngine,
} from "@mevlab/kernel-helpers";
import { writeSyntheticArbStore } from "../synthetic";
import { ROOT, percentile } from "../stack";

const args = process.argv.slice(2);
const json = args.includes("--json");
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROWS = opt("--rows", 5_000_000);
const RUNS = opt("--runs", 3);
const log = (s: string) => {
  (json ? process.stderr : process.stdout).write(s + "\n");
};

const GEN = `
import sys, chdb
out, rows = sys.argv[1], int(sys.argv[2])
q = {
  "numeric": f"SELECT number AS id, toUInt64(cityHash64(number)) AS lamports, toInt64(number) - 1000 AS net, toFloat64(number) / 3 AS ev, toUInt32(number % 1000) AS k FROM numbers({rows})",
  "string": f"SELECT concat('sig-', hex(cityHash64(number))) AS sig, arrayElement(['raydium','orca','meteora','pumpswap'], number % 4 + 1) AS dex FROM numbers({rows})",
}
for kind, sql in q.items():
  for m in ("none", "lz4_frame", "zstd"):
    if kind == "string" and m != "none": continue
    with open(f"{out}/{kind}-{m}.arrow", "wb") as f:
      f.write(chdb.query(f"{sql} SETTINGS output_format_arrow_compression_method = '{m}', output_format_arrow_string_as_string = 1", "ArrowStream").bytes())
`;

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return percentile(ms, 50);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mevlab-bench-slice-"));
  try {
    log(`chDB: writing ${ROWS.toLocaleString()} rows as ArrowStream (none, lz4_frame, zstd)…`);
    execFileSync(join(ROOT, ".venv/bin/python"), ["-c", GEN, dir, String(ROWS)], { stdio: "inherit" });
    const decode: Record<string, number> = {};
    const sizes: Record<string, number> = {};
    for (const name of ["numeric-none", "numeric-lz4_frame", "numeric-zstd", "string-none"]) {
      const bytes = new Uint8Array(readFileSync(join(dir, `${name}.arrow`)));
      sizes[name] = bytes.length;
      const ms = await timeIt(RUNS, async () => {
        const t = await readArrowStream(bytes);
        if (t.numRows !== ROWS) throw new Error(`${name}: ${t.numRows} rows`);
        // touch every column so lazily decoded data is not flattering
        for (let c = 0; c < t.numCols; c++) t.getChildAt(c)!.get(ROWS - 1);
      });
      decode[name] = Math.round(ROWS / (ms / 1000));
      log(
        `decode ${name}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ${ms.toFixed(1)} ms median, ${(decode[name] / 1e6).toFixed(1)}M rows/s`,
      );
    }
    const table = await readArrowStream(new Uint8Array(readFileSync(join(dir, "numeric-none.arrow"))));
    const sql = "SELECT k, count(*) AS n, sum(ev) AS ev, max(lamports) AS top FROM t GROUP BY k ORDER BY k";
    const groupBy: Record<DuckEngine, number> = { wasm: 0, native: 0 };
    for (const engine of ["wasm", "native"] as const) {
      const s = await duck({ engine });
      await s.registerArrow("t", table);
      await s.sql(sql); // warm
      groupBy[engine] = await timeIt(RUNS, async () => {
        const r = await s.sql(sql);
        if (r.numRows !== 1000) throw new Error(`${engine}: ${r.numRows} groups`);
      });
      log(`group-by over ${ROWS.toLocaleString()} rows, ${s.version}: ${groupBy[engine].toFixed(1)} ms median`);
      await s.close();
    }
    // Export: the same 5M arbitrage rows in a local store, exported as Parquet (zstd) by exportDataset
    // (DuckDB COPY + sha256 + manifest + rename) vs DuckDB's own COPY of the same selection.
    const dataDir = join(dir, "store");
    const T0 = Date.parse("2026-11-20T00:00:00Z");
    log(`writing ${ROWS.toLocaleString()} synthetic arbitrage rows into a local store…`);
    await writeSyntheticArbStore(join(dataDir, "events"), ROWS, T0, 24);
    const source = new DataSource({ dataDir, clickhouseUrl: "" });
    const exportsDir = join(dir, "exports");
    mkdirSync(exportsDir);
    const files = partitionFiles(join(dataDir, "events"), "arb_opportunities", T0, T0 + 24 * 3_600_000);
    const cols = EVENT_TABLES.arb_opportunities.map(([c]) => c).join(", ");
    const lit = (f: string) => `'${f.replaceAll("'", "''")}'`;
    const reference = await nativeDuck();
    let n = 0;
    const exportMs: number[] = [];
    const copyMs: number[] = [];
    let exportBytes = 0;
    let copyBytes = 0;
    // Interleaved, so both see the same page cache and machine state.
    for (let i = 0; i < RUNS + 1; i++) {
      const t0 = performance.now();
      const res = await exportDataset(
        {
          types: ["arb"],
          from: T0,
          to: T0 + 24 * 3_600_000,
          format: "parquet",
          compression: "zstd",
          output: `e${n++}`,
        },
        { source, allowedRoots: [exportsDir] },
      );
      const t1 = performance.now();
      if (res.manifest.rows !== ROWS) throw new Error(`export wrote ${res.manifest.rows} rows`);
      exportBytes = res.manifest.bytes;
      const target = join(exportsDir, `copy-${n}.parquet`);
      const t2 = performance.now();
      const rows = await reference.exec(
        `COPY (SELECT ${cols} FROM read_parquet([${files.map(lit).join(", ")}], union_by_name = true) ` +
          `WHERE ts_ms >= ${T0} AND ts_ms < ${T0 + 24 * 3_600_000} ORDER BY ts_ms) TO ${lit(target)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const t3 = performance.now();
      if (rows !== ROWS) throw new Error(`COPY wrote ${rows} rows`);
      copyBytes = statSync(target).size;
      if (i === 0) continue; // warm-up
      exportMs.push(t1 - t0);
      copyMs.push(t3 - t2);
      rmSync(res.output, { recursive: true });
      rmSync(target);
    }
    await reference.close();
    await source.close();
    const exportMedian = percentile(
      [...exportMs].sort((a, b) => a - b),
      50,
    );
    const copyMedian = percentile(
      [...copyMs].sort((a, b) => a - b),
      50,
    );
    log(
      `export of ${ROWS.toLocaleString()} rows (Parquet zstd): exportDataset ${exportMedian.toFixed(0)} ms, ` +
        `DuckDB COPY ${copyMedian.toFixed(0)} ms (medians of ${RUNS})`,
    );
    const out = {
      rows: ROWS,
      runs: RUNS,
      decode_rows_per_s: {
        numeric_none: decode["numeric-none"],
        numeric_lz4: decode["numeric-lz4_frame"],
        numeric_zstd: decode["numeric-zstd"],
        string_none: decode["string-none"],
      },
      arrow_bytes: sizes,
      group_by_ms: groupBy,
      duckdb_wasm_vs_native_ratio: Number((groupBy.wasm / groupBy.native).toFixed(2)),
      export_ms: { ours: Math.round(exportMedian), duckdb_copy: Math.round(copyMedian) },
      export_bytes: { ours: exportBytes, duckdb_copy: copyBytes },
      export_vs_duckdb_copy_ratio: Number((exportMedian / copyMedian).toFixed(2)),
    };
    process.stdout.write((json ? JSON.stringify(out) : JSON.stringify(out, null, 2)) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
