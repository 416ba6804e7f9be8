/**
 * Arrow tables as plain row objects for display: exact decimal strings, `Date`s, UUID text, arrays,
 * objects and BigInts.
 */
import type { DataType, Field, Table } from "apache-arrow";

export interface ToRowsOptions {
  /** Rows to convert, from the start (default: all). */
  limit?: number;
  /** 64-bit integers: `bigint` (default, always exact) or `number` where exact and bigint beyond 2^53. */
  int64?: "bigint" | "number";
}

/**
 * Plain objects for display: decimals become exact decimal strings, timestamps and dates become
 * `Date`s (the zone stays in the schema: `table.schema.fields[i].type.timezone`), UUIDs become their
 * canonical text, lists become arrays, structs objects, 64-bit integers BigInts.
 */
export function toRows(table: Table, options: ToRowsOptions = {}): Array<Record<string, unknown>> {
  const n = Math.min(table.numRows, options.limit ?? table.numRows);
  const fields = table.schema.fields;
  const columns = fields.map((f, i) => ({ name: f.name, vec: table.getChildAt(i)!, conv: converter(f, options) }));
  const rows: Array<Record<string, unknown>> = new Array(n);
  for (let r = 0; r < n; r++) {
    const row: Record<string, unknown> = {};
    for (const c of columns) {
      const v = c.vec.get(r);
      row[c.name] = v === null || v === undefined ? null : c.conv(v);
    }
    rows[r] = row;
  }
  return rows;
}

type Conv = (v: unknown) => unknown;
const identity: Conv = (v) => v;

function converter(field: Field, options: ToRowsOptions): Conv {
  return convertType(field.type, field.metadata.get("ARROW:extension:name"), options);
}

function convertType(type: DataType, extension: string | undefined, options: ToRowsOptions): Conv {
  const t = type as DataType & {
    typeId: number;
    scale?: number;
    bitWidth?: number;
    isSigned?: boolean;
    unit?: number;
    byteWidth?: number;
    children?: Field[];
    dictionary?: DataType;
  };
  const name = type.toString();
  if (name.startsWith("Decimal")) {
    const scale = t.scale ?? 0;
    return (v) => decimalText(v as Uint32Array, scale);
  }
  if (name.startsWith("Timestamp") || name.startsWith("Date")) return (v) => new Date(v as number);
  if (
    extension === "arrow.uuid" ||
    (name.startsWith("FixedSizeBinary") && t.byteWidth === 16 && extension === "uuid")
  ) {
    return (v) => uuidText(v as Uint8Array);
  }
  if (t.bitWidth === 64 && (name.startsWith("Int") || name.startsWith("Uint"))) {
    if (options.int64 === "number") {
      return (v) => {
        const b = v as bigint;
        return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
      };
    }
    return identity;
  }
  if (name.startsWith("Dictionary") && t.dictionary) return convertType(t.dictionary, undefined, options);
  if ((name.startsWith("List") || name.startsWith("FixedSizeList")) && t.children?.length) {
    const child = converter(t.children[0], options);
    return (v) => {
      const out: unknown[] = [];
      for (const x of v as Iterable<unknown>) out.push(x === null || x === undefined ? null : child(x));
      return out;
    };
  }
  if (name.startsWith("Struct") && t.children) {
    const parts = t.children.map((f) => ({ name: f.name, conv: converter(f, options) }));
    return (v) => {
      const row = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const p of parts) {
        const x = row[p.name];
        out[p.name] = x === null || x === undefined ? null : p.conv(x);
      }
      return out;
    };
  }
  if (name.startsWith("Map")) {
    return (v) => {
      const out: Record<string, unknown> = {};
      for (const [k, x] of v as Iterable<[unknown, unknown]>) out[String(k)] = x;
      return out;
    };
  }
  return identity;
}

/** The exact decimal text of a little-endian two's-complement integer (32-bit words) with `scale` digits. */
export function decimalText(words: Uint32Array, scale: number): string {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i]);
  const bits = BigInt(words.length * 32);
  if (words[words.length - 1] & 0x80000000) v -= 1n << bits;
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

function uuidText(b: Uint8Array): string {
  let h = "";
  for (let i = 0; i < 16; i++) h += b[i].toString(16).padStart(2, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
