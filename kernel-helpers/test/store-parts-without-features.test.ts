// A local store holds Parquet parts the sink wrote before the opportunity tables had the market's
// feature columns (f_*, cf_*). Slices and queries over them failed with "column not found" instead of
// giving those columns as NULL.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DataSource } from "../src/data/slice";
import { DUCKDB_TYPE, EVENT_TABLES, MARKET_FEATURE_COLUMNS } from "../src/data/streams";

const dataDir = mkdtempSync(join(tmpdir(), "mevlab-old-parts-"));
const store = join(dataDir, "events", "arb_opportunities");
const source = new DataSource({ dataDir, clickhouseUrl: "" });
after(async () => {
  await source.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `rows` rows in one hour's part, with the columns the table had then; every f_* column is 1.5 where present. */
async function writePart(hour: string, rows: number, withFeatures: boolean): Promise<void> {
  const dir = join(store, "date=2026-01-01", `hour=${hour}`);
  mkdirSync(dir, { recursive: true });
  const ts = Date.parse(`2026-01-01T${hour}:00:00Z`);
  const columns = EVENT_TABLES.arb_opportunities.filter(([c]) => withFeatures || !/^(f|cf)_/.test(c));
  const values = columns.map(([c, t]) => {
    const v =
      c === "ts_ms" ? `${ts} + i` : c.startsWith("f_") ? "1.5" : t === "str" ? "'x'" : t === "bool" ? "true" : "1";
    return `CAST(${v} AS ${DUCKDB_TYPE[t]}) AS ${c}`;
  });
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  await conn.run(
    `COPY (SELECT epoch_ms(ts_ms::BIGINT) AS ts, * FROM (SELECT ${values.join(", ")} FROM range(${rows}) t(i))) ` +
      `TO '${join(dir, "part-0.parquet")}' (FORMAT parquet)`,
  );
  conn.closeSync();
  db.closeSync();
}

test("parts without the feature columns slice and query with those columns NULL, beside parts with them", async () => {
  await writePart("00", 3, false);
  const old = await source.slice({ stream: "arb", from: "2026-01-01T00:00:00Z", to: "2026-01-01T01:00:00Z" });
  assert.equal(old.numRows, 3);
  for (const c of [...MARKET_FEATURE_COLUMNS, "cf_would_land", "cf_net_lamports_if_sent"]) {
    assert.deepEqual([...(old.getChild(c) ?? [])], [null, null, null], c);
  }

  await writePart("01", 2, true);
  const both = await source.slice({
    stream: "arb",
    from: "2026-01-01",
    to: "2026-01-02",
    columns: ["ts_ms", "f_tip_ratio_p75"],
  });
  assert.deepEqual([...(both.getChild("f_tip_ratio_p75") ?? [])], [null, null, null, 1.5, 1.5]);
  const q = await source.query(
    "SELECT count(*)::INTEGER AS n, count(f_hotpath_us)::INTEGER AS f FROM arb_opportunities",
  );
  assert.deepEqual([q.get(0)?.n, q.get(0)?.f], [5, 2]);
});
