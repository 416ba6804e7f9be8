import { mkdirSync } from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";

/**
 * Writes `rows` synthetic arbitrage opportunities into a local event store laid out as the control
 * plane's sink lays it out (`<store>/arb_opportunities/date=…/hour=…/part-*.parquet`, zstd), spread
 * evenly over `hours` from `fromMs`. Values are deterministic functions of the row number; amounts go
 * beyond 2^53. For benchmarks and tests that need more rows than publishing events would take.
 */
export async function writeSyntheticArbStore(
  storeDir: string,
  rows: number,
  fromMs: number,
  hours: number,
): Promise<void> {
  mkdirSync(storeDir, { recursive: true });
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  const step = (hours * 3_600_000) / rows;
  try {
    await conn.run(`
      COPY (
        SELECT epoch_ms(ts_ms::BIGINT) AS ts, *, strftime(epoch_ms(ts_ms::BIGINT), '%Y-%m-%d') AS date,
               strftime(epoch_ms(ts_ms::BIGINT), '%H') AS hour
        FROM (
          SELECT (${fromMs} + floor(i * ${step}))::UBIGINT AS ts_ms,
                 'arb-' || i AS id,
                 'arb-agent-' || (i % 4) AS agent_id,
                 (300000000 + i // 2)::UBIGINT AS slot,
                 md5(i::VARCHAR) AS tx_signature,
                 ['raydium,orca', 'orca,meteora', 'meteora,pumpswap', 'raydium,pumpswap,orca'][i % 4 + 1] AS dexes,
                 (2 + i % 2)::UINTEGER AS hops,
                 (9007199254740993 + i * 7)::UBIGINT AS amount_in,
                 (i % 100000)::BIGINT AS gross_lamports,
                 5000::BIGINT AS fees_lamports,
                 (1000 + i % 5000)::BIGINT AS tip_lamports,
                 ((i % 100000) - 6000 - i % 5000)::BIGINT AS net_lamports,
                 ((i % 100000) - 6000 - i % 5000) / 1e9 AS net_sol,
                 (i % 97) / 97.0 AS p_land_est,
                 ((i % 100000) - 6000) / 1e9 * (i % 97) / 97.0 AS ev_sol,
                 (i % 10) / 10.0 AS tip_quantile,
                 1::UBIGINT AS policy_version,
                 'model-synthetic' AS model_id,
                 i % 3 <> 0 AS accepted,
                 'bundle-' || i AS bundle_id,
                 i % 5 = 0 AS landed
          FROM range(${rows}) t(i)
        )
      ) TO '${storeDir.replaceAll("'", "''")}/arb_opportunities'
      (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (date, hour), FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
