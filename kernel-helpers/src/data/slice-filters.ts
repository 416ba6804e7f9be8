/**
 * The WHERE conditions of a slice (modules, DEX names, column conditions) for ClickHouse and DuckDB at
 * once, every value checked against its column's type and bound as a query parameter.
 */
import { DataError } from "../errors";
import type { QueryParams } from "./clickhouse";
import type { DuckParam } from "./duck-session";
import { CLICKHOUSE_TYPE, type ColumnType, type EventTable } from "./streams";

export type Scalar = string | number | bigint | boolean;
/** A column condition: a value (equality) or operators. */
export type Condition =
  Scalar | { eq?: Scalar; ne?: Scalar; gt?: Scalar; gte?: Scalar; lt?: Scalar; lte?: Scalar; in?: readonly Scalar[] };

/** The WHERE conditions of a slice for both engines, their values bound as parameters. */
export class Conditions {
  readonly ch: string[] = ["ts_ms >= {from_ms:UInt64}", "ts_ms < {to_ms:UInt64}"];
  readonly dk: string[] = ["ts_ms >= $from_ms", "ts_ms < $to_ms"];
  readonly chParams: QueryParams;
  readonly duckParams: Record<string, DuckParam>;
  private n = 0;

  constructor(fromMs: number, toMs: number) {
    this.chParams = { from_ms: fromMs, to_ms: toMs };
    this.duckParams = { from_ms: fromMs, to_ms: toMs };
  }

  add(ch: string, dk: string): void {
    this.ch.push(ch);
    this.dk.push(dk);
  }

  bind(value: Scalar | readonly Scalar[], chType: string): { ch: string; dk: string } {
    const name = `p${this.n++}`;
    // ClickHouse keeps booleans as UInt8
    this.chParams[name] = (
      typeof value === "boolean"
        ? Number(value)
        : Array.isArray(value)
          ? value.map((x) => (typeof x === "boolean" ? Number(x) : x))
          : value
    ) as never;
    this.duckParams[name] = value as DuckParam;
    return { ch: `{${name}:${chType}}`, dk: `$${name}` };
  }
}

const OPS: Record<string, string> = { eq: "=", ne: "!=", gt: ">", gte: ">=", lt: "<", lte: "<=" };

export function addModules(cond: Conditions, modules: unknown, table: EventTable): void {
  const mods = stringList(modules, "modules").map((m) => m.toLowerCase());
  for (const m of mods) {
    if (m !== "arbitrage" && m !== "mev")
      throw new DataError(`unknown module '${m}': use arbitrage, mev`, { field: "modules" });
  }
  if (table === "arb_opportunities" || table === "mev_opportunities") {
    if (!mods.includes(table === "arb_opportunities" ? "arbitrage" : "mev")) cond.add("0", "false");
  } else {
    const p = cond.bind(mods, "Array(String)");
    cond.add(`has(${p.ch}, module)`, `list_contains(${p.dk}, module)`);
  }
}

export function addDex(cond: Conditions, dex: unknown, table: EventTable): void {
  const dexes = stringList(dex, "dex").map((d) => d.toLowerCase());
  const p = cond.bind(dexes, "Array(String)");
  if (table === "arb_opportunities") {
    cond.add(
      `hasAny(splitByChar(',', lower(dexes)), ${p.ch})`,
      `list_has_any(string_split(lower(dexes), ','), ${p.dk})`,
    );
  } else if (table === "mev_opportunities") {
    cond.add(`has(${p.ch}, lower(dex))`, `list_contains(${p.dk}, lower(dex))`);
  } else {
    throw new DataError(`'dex' filters the opportunity streams (arb, mev), not ${table}`, { field: "dex" });
  }
}

export function addWhere(cond: Conditions, col: string, where: unknown, types: Map<string, ColumnType>): void {
  const t = types.get(col);
  if (!t)
    throw new DataError(`unknown column '${col}' in where (columns: ${[...types.keys()].join(", ")})`, {
      field: `where.${col}`,
    });
  const chType = CLICKHOUSE_TYPE[t];
  const conds = isScalar(where) ? { eq: where } : where;
  if (!conds || typeof conds !== "object" || Object.keys(conds).length === 0) {
    throw new DataError(`where.${col} must be a value or { eq | ne | gt | gte | lt | lte | in }`, {
      field: `where.${col}`,
    });
  }
  for (const [op, value] of Object.entries(conds)) {
    if (op === "in") {
      if (!Array.isArray(value) || value.length === 0 || !value.every(isScalar)) {
        throw new DataError(`where.${col}.in must be a non-empty list of values`, { field: `where.${col}` });
      }
      const p = cond.bind(value.map((v) => checkValue(v, t, col)) as Scalar[], `Array(${chType})`);
      cond.add(`has(${p.ch}, ${col})`, `list_contains(${p.dk}, ${col})`);
    } else if (OPS[op]) {
      const p = cond.bind(checkValue(value as Scalar, t, col), chType);
      cond.add(`${col} ${OPS[op]} ${p.ch}`, `${col} ${OPS[op]} ${p.dk}`);
    } else {
      throw new DataError(`where.${col}: unknown operator '${op}' (eq, ne, gt, gte, lt, lte, in)`, {
        field: `where.${col}`,
      });
    }
  }
}

function stringList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x.trim() !== "")) {
    throw new DataError(`'${field}' must be a non-empty list of names`, { field });
  }
  return v.map((x: string) => x.trim());
}

function isScalar(v: unknown): v is Scalar {
  return ["string", "number", "bigint", "boolean"].includes(typeof v);
}

function checkValue(v: Scalar, t: ColumnType, col: string): Scalar {
  const bad = (what: string) =>
    new DataError(`where.${col}: ${JSON.stringify(String(v))} is not ${what}`, { field: `where.${col}` });
  switch (t) {
    case "str":
      if (typeof v !== "string") throw bad("a string");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw bad("true or false");
      return v;
    case "f64":
      if (typeof v !== "number" || !Number.isFinite(v)) throw bad("a finite number");
      return v;
    default: {
      const b = typeof v === "bigint" ? v : typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : null;
      if (b === null) throw bad("an integer");
      if ((t === "u64" || t === "u32") && b < 0n) throw bad("a non-negative integer");
      return b;
    }
  }
}
