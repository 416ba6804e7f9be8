/** DuckDB result columns (`@duckdb/node-api` vectors) as Arrow data, for the native engine. */
import {
  Bool,
  DataType,
  Date_,
  DateUnit,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  vectorFromArray,
} from "apache-arrow";

export type NodeApi = typeof import("@duckdb/node-api");

export interface ColumnConverter {
  type: DataType;
  build(
    vectors: ReadonlyArray<{ itemCount: number; getItem(i: number): unknown }>,
    rows: number,
  ): ReturnType<typeof makeData>;
}

/** How one DuckDB column type becomes an Arrow column: typed-array copies for fixed-width types, values otherwise. */
export function columnFor(api: NodeApi, id: number): ColumnConverter {
  const T = api.DuckDBTypeId;
  const fixed = (
    type: DataType,
    Ctor: new (n: number) => ArrayLike<unknown> & { set(a: ArrayLike<unknown>, o: number): void },
  ) => ({
    type,
    build(vectors: ReadonlyArray<{ itemCount: number; getItem(i: number): unknown }>, rows: number) {
      const values = new Ctor(rows);
      const valid = new Uint8Array((rows + 7) >> 3);
      let o = 0;
      let nulls = 0;
      for (const v of vectors) {
        const items = (v as unknown as { items: ArrayLike<unknown> }).items;
        values.set(items, o);
        nulls += copyValidity(v, valid, o);
        o += v.itemCount;
      }
      return makeData({
        type,
        length: rows,
        nullCount: nulls,
        data: values as never,
        nullBitmap: nulls ? valid : undefined,
      } as never);
    },
  });
  switch (id) {
    case T.TINYINT:
      return fixed(new Int8(), Int8Array as never);
    case T.SMALLINT:
      return fixed(new Int16(), Int16Array as never);
    case T.INTEGER:
      return fixed(new Int32(), Int32Array as never);
    case T.BIGINT:
      return fixed(new Int64(), BigInt64Array as never);
    case T.UTINYINT:
      return fixed(new Uint8(), Uint8Array as never);
    case T.USMALLINT:
      return fixed(new Uint16(), Uint16Array as never);
    case T.UINTEGER:
      return fixed(new Uint32(), Uint32Array as never);
    case T.UBIGINT:
      return fixed(new Uint64(), BigUint64Array as never);
    case T.FLOAT:
      return fixed(new Float32(), Float32Array as never);
    case T.DOUBLE:
      return fixed(new Float64(), Float64Array as never);
    case T.DATE:
      return fixed(new Date_(DateUnit.DAY), Int32Array as never);
    case T.TIMESTAMP:
    case T.TIMESTAMP_TZ:
      return fixed(new Timestamp(TimeUnit.MICROSECOND, id === T.TIMESTAMP_TZ ? "UTC" : null), BigInt64Array as never);
    case T.TIMESTAMP_MS:
      return fixed(new Timestamp(TimeUnit.MILLISECOND), BigInt64Array as never);
    case T.TIMESTAMP_S:
      return fixed(new Timestamp(TimeUnit.SECOND), BigInt64Array as never);
    case T.TIMESTAMP_NS:
      return fixed(new Timestamp(TimeUnit.NANOSECOND), BigInt64Array as never);
    case T.BOOLEAN:
      return byValue(new Bool(), (v) => v as boolean);
    case T.VARCHAR:
      return byValue(new Utf8(), (v) => v as string);
    default:
      return byValue(new Utf8(), (v) => String(v));
  }
}

function byValue(type: DataType, conv: (v: unknown) => unknown): ColumnConverter {
  return {
    type,
    build(vectors) {
      const values: unknown[] = [];
      for (const v of vectors) {
        for (let i = 0; i < v.itemCount; i++) {
          const x = v.getItem(i);
          values.push(x === null || x === undefined ? null : conv(x));
        }
      }
      return vectorFromArray(values, type).data[0];
    },
  };
}

/** Copies a DuckDB validity mask (64-bit words, LSB first, like Arrow's) into `valid` at bit `at`; returns the nulls. */
function copyValidity(v: { itemCount: number }, valid: Uint8Array, at: number): number {
  const validity = (v as unknown as { validity: { data: BigUint64Array | null; offset: number } }).validity;
  const n = v.itemCount;
  if (!validity.data) {
    setBits(valid, at, n);
    return 0;
  }
  const bytes = new Uint8Array(validity.data.buffer, validity.data.byteOffset, validity.data.byteLength);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const bit = validity.offset + i;
    if (bytes[bit >> 3] & (1 << (bit & 7))) valid[(at + i) >> 3] |= 1 << ((at + i) & 7);
    else nulls++;
  }
  return nulls;
}

function setBits(valid: Uint8Array, at: number, n: number): void {
  let i = at;
  const end = at + n;
  while (i < end && i & 7) valid[i >> 3] |= 1 << (i++ & 7);
  while (i + 8 <= end) {
    valid[i >> 3] = 0xff;
    i += 8;
  }
  while (i < end) valid[i >> 3] |= 1 << (i++ & 7);
}
