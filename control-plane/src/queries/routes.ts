import type { FastifyInstance } from "fastify";
import { ClickHouseError, DataError, describe, toRows, type DataSource } from "@mevlab/kernel-helpers";
import { authenticate } from "../auth/guard";
import type { TokenService } from "../auth/tokens";
import { HttpError, badRequest } from "../http/errors";
import { QUERIES, bindParams } from "./registry";

export interface QueryDeps {
  tokens: TokenService;
  source: DataSource;
  /** Per query (default 30 s). */
  timeoutMs?: number;
}

/**
 * `POST /api/clickhouse/query {name, params}`: runs a named query of the registry against ClickHouse
 * (when configured) or the local store; raw SQL is refused. Any signed-in role may read.
 */
export function queryRoutes(app: FastifyInstance, deps: QueryDeps): void {
  app.get("/api/clickhouse/queries", async (req) => {
    await authenticate(req, deps.tokens);
    return {
      source: deps.source.kind,
      queries: Object.entries(QUERIES).map(([name, q]) => ({ name, description: q.description, params: q.params })),
    };
  });

  app.post("/api/clickhouse/query", async (req) => {
    await authenticate(req, deps.tokens);
    const body = req.body;
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      throw badRequest("body must be a JSON object: {name, params}");
    }
    const b = body as Record<string, unknown>;
    if ("sql" in b || "query" in b) {
      throw badRequest(
        "raw SQL is not accepted: run a named query as {name, params} (GET /api/clickhouse/queries lists them)",
      );
    }
    for (const k of Object.keys(b)) {
      if (k !== "name" && k !== "params") throw badRequest(`unknown field '${k}' (known: name, params)`);
    }
    const name = b.name;
    if (typeof name !== "string" || !Object.hasOwn(QUERIES, name)) {
      throw badRequest(`unknown query ${JSON.stringify(name)} (known: ${Object.keys(QUERIES).join(", ")})`);
    }
    const query = QUERIES[name];
    const params = bindParams(name, query, b.params);
    const t0 = performance.now();
    let table;
    try {
      table = await deps.source.query(deps.source.kind === "clickhouse" ? query.clickhouse : query.duckdb, params, {
        signal: AbortSignal.timeout(deps.timeoutMs ?? 30_000),
      });
    } catch (err) {
      const status = err instanceof DataError && /cancel/.test(err.message) ? 504 : 502;
      const code = err instanceof ClickHouseError ? "clickhouse_error" : status === 504 ? "timeout" : "store_error";
      throw new HttpError(status, code, `query '${name}' failed: ${describe(err)}`);
    }
    const rows = toRows(table, { int64: "number" }).map((row) => {
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === "bigint")
          row[k] = v.toString(); // beyond 2^53: exact, as a string
        else if (v instanceof Date) row[k] = v.toISOString();
      }
      return row;
    });
    return {
      ok: true,
      name,
      source: deps.source.kind,
      params,
      columns: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
      rows,
      row_count: rows.length,
      elapsed_ms: Math.round((performance.now() - t0) * 100) / 100,
    };
  });
}
