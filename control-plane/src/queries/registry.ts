/**
 * The curated queries behind `POST /api/clickhouse/query`: a fixed registry of named, read-only
 * queries with typed parameters, each written for ClickHouse (`{name:Type}` placeholders) and for the
 * local store's DuckDB (`$name`). Nothing a client sends becomes SQL text.
 */
import type { QueryParams } from "@mevlab/kernel-helpers";
import { badRequest } from "../http/errors";

export type ParamType = "time" | "module" | "limit" | "text";

export interface ParamSpec {
  type: ParamType;
  description: string;
  /** Used when the parameter is absent; a parameter without a default is required. */
  default?: string | number;
}

export interface NamedQuery {
  description: string;
  params: Record<string, ParamSpec>;
  clickhouse: string;
  duckdb: string;
}

const FROM: ParamSpec = { type: "time", description: "inclusive start: ISO date / date-time or unix ms" };
const TO: ParamSpec = { type: "time", description: "exclusive end: ISO date / date-time or unix ms" };
const MODULE: ParamSpec = { type: "module", description: "arbitrage or mev; empty for both", default: "" };
const HOUR = 3_600_000;

export const QUERIES: Record<string, NamedQuery> = {
  opportunities_by_hour: {
    description: "Opportunities per hour and module: count, accepted, summed net SOL",
    params: { from: FROM, to: TO },
    clickhouse: `SELECT * FROM (
        SELECT intDiv(ts_ms, ${HOUR}) * ${HOUR} AS hour_ms, 'arbitrage' AS module, count() AS opportunities,
               countIf(accepted = 1) AS accepted, sum(net_sol) AS net_sol
        FROM arb_opportunities WHERE ts_ms >= {from:UInt64} AND ts_ms < {to:UInt64} GROUP BY hour_ms
        UNION ALL
        SELECT intDiv(ts_ms, ${HOUR}) * ${HOUR} AS hour_ms, 'mev' AS module, count() AS opportunities,
               countIf(accepted = 1) AS accepted, sum(net_sol) AS net_sol
        FROM mev_opportunities WHERE ts_ms >= {from:UInt64} AND ts_ms < {to:UInt64} GROUP BY hour_ms
      ) ORDER BY hour_ms, module`,
    duckdb: `SELECT * FROM (
        SELECT (ts_ms // ${HOUR}) * ${HOUR} AS hour_ms, 'arbitrage' AS module, count(*) AS opportunities,
               count(*) FILTER (WHERE accepted) AS accepted, sum(net_sol) AS net_sol
        FROM arb_opportunities WHERE ts_ms >= $from AND ts_ms < $to GROUP BY hour_ms
        UNION ALL
        SELECT (ts_ms // ${HOUR}) * ${HOUR} AS hour_ms, 'mev' AS module, count(*) AS opportunities,
               count(*) FILTER (WHERE accepted) AS accepted, sum(net_sol) AS net_sol
        FROM mev_opportunities WHERE ts_ms >= $from AND ts_ms < $to GROUP BY hour_ms
      ) ORDER BY hour_ms, module`,
  },
  landed_by_hour: {
    description: "Bundles sent and landed per hour and module, with the landed fraction",
    params: { from: FROM, to: TO, module: MODULE },
    clickhouse: `SELECT intDiv(ts_ms, ${HOUR}) * ${HOUR} AS hour_ms, module, count() AS bundles,
        sum(landed) AS landed, sum(landed) / count() AS landed_pct
      FROM bundle_outcomes
      WHERE ts_ms >= {from:UInt64} AND ts_ms < {to:UInt64} AND ({module:String} = '' OR module = {module:String})
      GROUP BY hour_ms, module ORDER BY hour_ms, module`,
    duckdb: `SELECT (ts_ms // ${HOUR}) * ${HOUR} AS hour_ms, module, count(*) AS bundles,
        sum(landed::INTEGER) AS landed, sum(landed::INTEGER) / count(*) AS landed_pct
      FROM bundle_outcomes
      WHERE ts_ms >= $from AND ts_ms < $to AND ($module = '' OR module = $module)
      GROUP BY hour_ms, module ORDER BY hour_ms, module`,
  },
  top_mev_pools: {
    description: "MEV pools by summed expected value",
    params: { from: FROM, to: TO, limit: { type: "limit", description: "rows, 1–1000", default: 20 } },
    clickhouse: `SELECT dex, pool, count() AS opportunities, sum(ev_sol) AS ev_sol, sum(net_sol) AS net_sol
      FROM mev_opportunities WHERE ts_ms >= {from:UInt64} AND ts_ms < {to:UInt64}
      GROUP BY dex, pool ORDER BY opportunities DESC, dex, pool LIMIT {limit:UInt32}`,
    duckdb: `SELECT dex, pool, count(*) AS opportunities, sum(ev_sol) AS ev_sol, sum(net_sol) AS net_sol
      FROM mev_opportunities WHERE ts_ms >= $from AND ts_ms < $to
      GROUP BY dex, pool ORDER BY opportunities DESC, dex, pool LIMIT $limit`,
  },
  opportunities_by_dex: {
    description: "Opportunities touching one DEX (case-insensitive) per module",
    params: { from: FROM, to: TO, dex: { type: "text", description: "DEX name, e.g. Raydium" } },
    clickhouse: `SELECT 'arbitrage' AS module, count() AS opportunities FROM arb_opportunities
        WHERE ts_ms >= {from:UInt64} AND ts_ms < {to:UInt64} AND has(splitByChar(',', lower(dexes)), lower({dex:String}))
      UNION ALL
      SELECT 'mev' AS module, count() AS opportunities FROM mev_opportunities
        WHERE ts_ms >= {from:UInt64} AND ts_ms < {to:UInt64} AND lower(dex) = lower({dex:String})`,
    duckdb: `SELECT 'arbitrage' AS module, count(*) AS opportunities FROM arb_opportunities
        WHERE ts_ms >= $from AND ts_ms < $to AND list_contains(string_split(lower(dexes), ','), lower($dex))
      UNION ALL
      SELECT 'mev' AS module, count(*) AS opportunities FROM mev_opportunities
        WHERE ts_ms >= $from AND ts_ms < $to AND lower(dex) = lower($dex)`,
  },
  recent_outcomes: {
    description: "The latest bundle outcomes",
    params: { module: MODULE, limit: { type: "limit", description: "rows, 1–1000", default: 50 } },
    clickhouse: `SELECT ts_ms, bundle_id, module, agent_id, CAST(landed AS Bool) AS landed, tip_lamports, slot, latency_ms
      FROM bundle_outcomes WHERE ({module:String} = '' OR module = {module:String})
      ORDER BY ts_ms DESC, bundle_id LIMIT {limit:UInt32}`,
    duckdb: `SELECT ts_ms, bundle_id, module, agent_id, landed, tip_lamports, slot, latency_ms
      FROM bundle_outcomes WHERE ($module = '' OR module = $module)
      ORDER BY ts_ms DESC, bundle_id LIMIT $limit`,
  },
};

/** Validates `params` against the query's parameter list: 400 naming the parameter otherwise. */
export function bindParams(name: string, query: NamedQuery, params: unknown): QueryParams {
  if (params === undefined || params === null) params = {};
  if (typeof params !== "object" || Array.isArray(params)) throw badRequest("'params' must be an object");
  const given = params as Record<string, unknown>;
  for (const k of Object.keys(given)) {
    if (!(k in query.params)) {
      throw badRequest(
        `query '${name}' has no parameter '${k}' (parameters: ${Object.keys(query.params).join(", ") || "none"})`,
      );
    }
  }
  const out: QueryParams = {};
  for (const [k, spec] of Object.entries(query.params)) {
    const v = given[k] ?? spec.default;
    if (v === undefined) throw badRequest(`query '${name}' needs parameter '${k}' (${spec.description})`);
    out[k] = check(k, spec, v);
  }
  if (typeof out.from === "number" && typeof out.to === "number" && !(out.from < out.to)) {
    throw badRequest("params.from must be before params.to");
  }
  return out;
}

function check(k: string, spec: ParamSpec, v: unknown): string | number {
  const bad = (what: string) => badRequest(`params.${k} must be ${what}, not ${JSON.stringify(v)}`);
  switch (spec.type) {
    case "time": {
      const ms =
        typeof v === "number"
          ? v
          : typeof v === "string" && v.trim()
            ? Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? `${v.trim()}T00:00:00Z` : v)
            : NaN;
      if (!Number.isSafeInteger(ms) || ms < 0) throw bad("an ISO date / date-time or unix milliseconds");
      return ms;
    }
    case "module":
      if (v !== "" && v !== "arbitrage" && v !== "mev") throw bad("'arbitrage', 'mev' or ''");
      return v;
    case "limit":
      if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > 1000) throw bad("an integer 1–1000");
      return v as number;
    case "text":
      if (typeof v !== "string" || v.length === 0 || v.length > 64) throw bad("a string of 1–64 characters");
      return v;
  }
}
