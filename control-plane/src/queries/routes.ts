import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  ClickHouseError,
  CuratedQueryResult,
  DataError,
  QuerySource,
  describe,
  toRows,
  type DataSource,
} from "@mevlab/kernel-helpers";
import { READ } from "../auth/access";
import { StringEnum } from "../http/typebox";
import { HttpError } from "../http/errors";
import { QUERIES, bindParams } from "./registry";

export interface QueryDeps {
  source: DataSource;
  /** Per query (default 30 s). */
  timeoutMs?: number;
}

const NAMES = Object.keys(QUERIES);

const QueryBody = Type.Object(
  {
    name: StringEnum(NAMES, { "x-error": `unknown query {got} (known: ${NAMES.join(", ")})` }),
    params: Type.Optional(
      Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
        description: "the query's parameters (GET /api/clickhouse/queries lists them)",
        "x-error": "'params' must be an object",
      }),
    ),
  },
  {
    additionalProperties: false,
    // Checked before anything else: the answer to raw SQL says what to do instead.
    not: Type.Union([Type.Object({ sql: Type.Unknown() }), Type.Object({ query: Type.Unknown() })]),
    "x-error": "body must be a JSON object: {name, params}",
    "x-errors": {
      not: "raw SQL is not accepted: run a named query as {name, params} (GET /api/clickhouse/queries lists them)",
    },
    "x-unknown": "unknown field '{field}' (known: name, params)",
  },
);

const ParamSpec = Type.Object(
  {
    type: StringEnum(["time", "module", "limit", "text"]),
    description: Type.String(),
    default: Type.Optional(Type.Union([Type.String(), Type.Number()])),
  },
  { additionalProperties: false },
);

const QueryList = Type.Object(
  {
    source: QuerySource,
    queries: Type.Array(
      Type.Object(
        { name: Type.String(), description: Type.String(), params: Type.Record(Type.String(), ParamSpec) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * `POST /api/clickhouse/query {name, params}`: runs a named query of the registry against ClickHouse
 * (when configured) or the local store; raw SQL is refused. Any signed-in role may read.
 */
export const queryRoutes: FastifyPluginAsyncTypebox<QueryDeps> = async (app, deps) => {
  const tags = ["queries"];
  app.get(
    "/api/clickhouse/queries",
    { config: { access: READ }, schema: { summary: "The named queries", tags, response: { 200: QueryList } } },
    async () => ({
      source: deps.source.kind,
      queries: Object.entries(QUERIES).map(([name, q]) => ({ name, description: q.description, params: q.params })),
    }),
  );

  app.post(
    "/api/clickhouse/query",
    {
      config: { access: READ },
      schema: {
        summary: "Run a named query with typed parameters",
        tags,
        body: QueryBody,
        response: { 200: CuratedQueryResult },
      },
    },
    async (req) => {
      const { name } = req.body;
      const query = QUERIES[name];
      const params = bindParams(name, query, req.body.params);
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
        ok: true as const,
        name,
        source: deps.source.kind,
        params,
        columns: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
        rows,
        row_count: rows.length,
        elapsed_ms: Math.round((performance.now() - t0) * 100) / 100,
      };
    },
  );
};
