// planSlice's validation and the plan it makes, without DuckDB or ClickHouse: every refusal names its
// field, and filter values travel as parameters, never inside the SQL text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { DataError } from "../src/errors";
import { planSlice, type SliceSpec } from "../src/data/slice";
import { EVENT_TABLES } from "../src/data/streams";

const DAY = Date.UTC(2024, 0, 1);
const base = { stream: "arb", from: "2024-01-01", to: "2024-01-02" };

/** planSlice(base + change) throws a DataError on `field` whose message matches `message`. */
function refused(change: Record<string, unknown>, field: string, message: RegExp): void {
  assert.throws(
    () => planSlice({ ...base, ...change } as SliceSpec),
    (err: unknown) => {
      assert.ok(err instanceof DataError, `a DataError for ${inspect(change)}, got ${String(err)}`);
      assert.equal(err.field, field, inspect(change));
      assert.match(err.message, message);
      return true;
    },
  );
}

test("a spec that is not an object, or has an unknown field, is refused", () => {
  for (const spec of [null, undefined, "arb", 3]) {
    assert.throws(
      () => planSlice(spec as never),
      (err: unknown) => err instanceof DataError && err.field === "spec" && /^slice needs \{ stream/.test(err.message),
    );
  }
  refused({ colums: ["id"] }, "colums", /^unknown slice field 'colums' \(known: stream, from, to, modules, dex,/);
});

test("streams: the short names, the module name and the table names; nothing else", () => {
  const accepted: Array<[string, string]> = [
    ["arb", "arb_opportunities"],
    ["arbitrage", "arb_opportunities"],
    ["arb_opportunities", "arb_opportunities"],
    ["mev", "mev_opportunities"],
    ["mev_opportunities", "mev_opportunities"],
    ["outcomes", "bundle_outcomes"],
    ["bundle_outcomes", "bundle_outcomes"],
    ["metrics", "agent_metrics"],
    ["agent_metrics", "agent_metrics"],
  ];
  for (const [stream, table] of accepted) assert.equal(planSlice({ ...base, stream }).table, table, stream);
  for (const stream of ["trades", "ARB", " arb", "", undefined, 1, "toString", "constructor", "__proto__"]) {
    refused({ stream }, "stream", /^unknown stream .*: use arb, arbitrage, arb_opportunities, mev,/);
  }
});

test("from and to: Date, unix ms, ISO date (UTC midnight) or date-time", () => {
  const ms = (from: unknown, to: unknown = "2100-01-01") => {
    const p = planSlice({ ...base, from, to } as SliceSpec);
    return [p.fromMs, p.toMs];
  };
  assert.deepEqual(ms("2024-01-01", "2024-01-02"), [DAY, DAY + 86_400_000]);
  assert.deepEqual(ms(" 2024-01-01 "), [DAY, Date.UTC(2100, 0, 1)]);
  assert.deepEqual(ms(new Date(DAY), DAY + 1), [DAY, DAY + 1]);
  assert.deepEqual(ms(0, 1.9), [0, 1]); // floored
  assert.deepEqual(ms("2024-01-01T12:30:00Z")[0], DAY + 12.5 * 3_600_000);
  assert.deepEqual(ms("2024-01-01T02:00:00+02:00")[0], DAY);
  assert.deepEqual(ms(DAY, 8.64e15), [DAY, 8.64e15]);
  // a bare date is UTC midnight whatever the machine's time zone
  const tz = process.env.TZ;
  try {
    process.env.TZ = "America/New_York";
    assert.equal(new Date(2024, 0, 1).getTimezoneOffset(), 300, "Node applies TZ set at run time");
    assert.deepEqual(ms("2024-01-01", "2024-01-02"), [DAY, DAY + 86_400_000]);
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test("from and to that are not times are refused, each on its own field", () => {
  const bad = ["", "  ", "yesterday", "1700000000000", "2024-13-01", NaN, Infinity, -1, 8.64e15 + 1, null, {}, true];
  for (const v of [...bad, new Date(NaN)]) {
    refused({ from: v }, "from", /^'from' must be a Date, unix milliseconds or an ISO date, not /);
    refused({ to: v }, "to", /^'to' must be a Date, unix milliseconds or an ISO date, not /);
  }
  refused({ from: "nope", to: "nope" }, "from", /^'from'/);
});

test("from must be before to", () => {
  const message =
    /^'from' \(2024-01-02T00:00:00\.000Z\) must be before 'to' \((2024-01-02|2024-01-01)T00:00:00\.000Z\)$/;
  refused({ from: "2024-01-02", to: "2024-01-02" }, "from", message);
  refused({ from: "2024-01-02", to: "2024-01-01" }, "from", message);
  refused({ from: DAY + 1, to: DAY + 1.5 }, "from", /must be before 'to'/); // both floor to the same ms
});

test("columns: all by default, or the ones named, in their order", () => {
  const all = planSlice(base);
  assert.deepEqual(all.columns, EVENT_TABLES.arb_opportunities);
  assert.equal(all.columns[0][0], "ts_ms");
  const some = planSlice({ ...base, columns: ["net_sol", "ts_ms", "landed"] });
  assert.deepEqual(some.columns, [
    ["net_sol", "f64"],
    ["ts_ms", "u64"],
    ["landed", "bool"],
  ]);
  assert.match(some.clickhouse("db"), /^SELECT net_sol, ts_ms, landed FROM db\.arb_opportunities WHERE/);
  for (const columns of [[], "id", {}]) {
    refused({ columns }, "columns", /^'columns' must be a non-empty list of column names$/);
  }
  refused({ columns: ["id", "nope"] }, "columns", /^unknown column 'nope' in arb_opportunities \(columns: ts_ms, id,/);
  refused({ columns: ["module"] }, "columns", /^unknown column 'module' in arb_opportunities/); // a column of outcomes
});

test("a plain slice plans both engines' SQL with the time bounds as parameters", () => {
  const p = planSlice({ stream: "outcomes", from: DAY, to: DAY + 1000, columns: ["ts_ms", "landed"], limit: 5 });
  assert.equal(p.table, "bundle_outcomes");
  assert.deepEqual([p.fromMs, p.toMs], [DAY, DAY + 1000]);
  assert.deepEqual(p.chParams, { from_ms: DAY, to_ms: DAY + 1000 });
  assert.deepEqual(p.duckParams, { from_ms: DAY, to_ms: DAY + 1000 });
  assert.equal(
    p.clickhouse("mevlab"),
    "SELECT ts_ms, landed FROM mevlab.bundle_outcomes " +
      "WHERE ts_ms >= {from_ms:UInt64} AND ts_ms < {to_ms:UInt64} ORDER BY ts_ms LIMIT 5",
  );
  assert.equal(
    p.duckdb(["/d/a.parquet", "/d/it's.parquet"]),
    "SELECT ts_ms, landed FROM read_parquet(['/d/a.parquet', '/d/it''s.parquet'], union_by_name = true) " +
      "WHERE ts_ms >= $from_ms AND ts_ms < $to_ms ORDER BY ts_ms LIMIT 5",
  );
});

test("modules: a non-empty list of arbitrage / mev, any case", () => {
  for (const modules of [[], "mev", [""], ["  "], [1], null]) {
    refused({ modules }, "modules", /^'modules' must be a non-empty list of names$/);
  }
  refused({ modules: ["mev", "Sandwich"] }, "modules", /^unknown module 'sandwich': use arbitrage, mev$/);
  // the opportunity streams belong to one module: another one leaves the slice empty
  assert.doesNotMatch(planSlice({ ...base, modules: [" ARBITRAGE "] }).clickhouse("db"), / AND 0 /);
  const none = planSlice({ ...base, modules: ["mev"] });
  assert.match(none.clickhouse("db"), /AND 0 ORDER BY/);
  assert.match(none.duckdb(["f"]), /AND false ORDER BY/);
  // outcomes and metrics have a module column
  const out = planSlice({ ...base, stream: "metrics", modules: ["MEV", "arbitrage"] });
  assert.deepEqual(out.chParams.p0, ["mev", "arbitrage"]);
  assert.match(out.clickhouse("db"), /AND has\(\{p0:Array\(String\)\}, module\) ORDER BY/);
  assert.match(out.duckdb(["f"]), /AND list_contains\(\$p0, module\) ORDER BY/);
});

test("dex: a non-empty list, lower-cased; only on the opportunity streams", () => {
  for (const dex of [[], "orca", [" "], [2]]) refused({ dex }, "dex", /^'dex' must be a non-empty list of names$/);
  for (const stream of ["outcomes", "metrics"]) {
    refused({ stream, dex: ["orca"] }, "dex", /^'dex' filters the opportunity streams \(arb, mev\), not \w+$/);
  }
  const arb = planSlice({ ...base, dex: [" Raydium ", "ORCA"] });
  assert.deepEqual(arb.duckParams.p0, ["raydium", "orca"]);
  assert.match(arb.clickhouse("db"), /hasAny\(splitByChar\(',', lower\(dexes\)\), \{p0:Array\(String\)\}\)/);
  const mev = planSlice({ ...base, stream: "mev", dex: ["Orca"] });
  assert.match(mev.duckdb(["f"]), /list_contains\(\$p0, lower\(dex\)\)/);
});

test("where: known columns, known operators, values of the column's type", () => {
  const w = (where: Record<string, unknown>) => ({ where });
  refused(w({ nope: 1 }), "where.nope", /^unknown column 'nope' in where \(columns: ts_ms,/);
  for (const cond of [{}, null, undefined, [], () => 1]) {
    refused(w({ landed: cond }), "where.landed", /^where\.landed must be a value or \{ eq \| ne \| gt/);
  }
  refused(w({ hops: { like: 2 } }), "where.hops", /^where\.hops: unknown operator 'like' \(eq, ne, gt,/);
  refused(w({ hops: [1, 2] }), "where.hops", /unknown operator '0'/);
  for (const list of [[], "a", [{}], [null]]) {
    refused(w({ id: { in: list } }), "where.id", /^where\.id\.in must be a non-empty list of values$/);
  }
  const typeCases: Array<[string, unknown, string]> = [
    ["id", 1, "a string"],
    ["landed", "true", "true or false"],
    ["landed", 1, "true or false"],
    ["net_sol", NaN, "a finite number"],
    ["net_sol", "0.1", "a finite number"],
    ["net_sol", 1n, "a finite number"],
    ["slot", 1.5, "an integer"],
    ["slot", "1", "an integer"],
    ["slot", 2 ** 53, "an integer"],
    ["slot", -1, "a non-negative integer"],
    ["hops", -1n, "a non-negative integer"],
  ];
  for (const [col, value, what] of typeCases) {
    const message = new RegExp(`^where\\.${col}: .* is not ${what}$`);
    refused(w({ [col]: { gte: value } }), `where.${col}`, message);
    refused(w({ [col]: { in: [value] } }), `where.${col}`, message);
  }
});

test("where values become typed parameters, booleans as UInt8 for ClickHouse", () => {
  const p = planSlice({
    ...base,
    where: {
      landed: true,
      net_sol: { gte: 0.01, lt: 2 },
      slot: { in: [1, 2n] },
      gross_lamports: { gt: -5 },
      id: { ne: "x'; DROP TABLE t; --" },
    },
  });
  assert.deepEqual(p.chParams, {
    from_ms: DAY,
    to_ms: DAY + 86_400_000,
    p0: 1,
    p1: 0.01,
    p2: 2,
    p3: [1n, 2n],
    p4: -5n,
    p5: "x'; DROP TABLE t; --",
  });
  assert.deepEqual(
    { p0: p.duckParams.p0, p3: p.duckParams.p3, p4: p.duckParams.p4 },
    { p0: true, p3: [1n, 2n], p4: -5n },
  );
  assert.equal(
    p.clickhouse("db").split(" WHERE ")[1],
    "ts_ms >= {from_ms:UInt64} AND ts_ms < {to_ms:UInt64} AND landed = {p0:UInt8} AND net_sol >= {p1:Float64} " +
      "AND net_sol < {p2:Float64} AND has({p3:Array(UInt64)}, slot) AND gross_lamports > {p4:Int64} " +
      "AND id != {p5:String} ORDER BY ts_ms",
  );
  assert.doesNotMatch(p.duckdb(["f"]), /DROP/);
});

test("limit: a positive safe integer", () => {
  for (const limit of [0, -1, 1.5, "10", NaN, 2 ** 53, null]) {
    refused({ limit }, "limit", /^'limit' must be a positive integer, not /);
  }
  refused({ limit: 0 }, "limit", /, not 0$/);
  const p = planSlice({ ...base, limit: 1 });
  assert.match(p.clickhouse("db"), / ORDER BY ts_ms LIMIT 1$/);
  assert.match(p.duckdb(["f"]), / ORDER BY ts_ms LIMIT 1$/);
  assert.doesNotMatch(planSlice(base).clickhouse("db"), /LIMIT/);
});
