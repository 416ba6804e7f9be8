/** Slice results shaped as Arrow: ClickHouse's UInt8 booleans as Arrow Bool, and the schema of an empty slice. */
import {
  Bool,
  Field,
  Float64,
  Int64,
  RecordBatch as RecordBatchClass,
  Schema,
  Struct,
  makeData,
  Uint32,
  Uint64,
  Utf8,
  type DataType,
  type RecordBatch,
} from "apache-arrow";
import type { SlicePlan } from "./slice-plan";
import type { ColumnType } from "./streams";

/** The batch with the UInt8 columns named in `names` as Arrow Bool. */
export function withBools(batch: RecordBatch, names: Set<string>): RecordBatch {
  const fields = batch.schema.fields.map((f) => (names.has(f.name) ? new Field(f.name, new Bool(), f.nullable) : f));
  const children = batch.schema.fields.map((f, i) => {
    const data = batch.data.children[i];
    if (!names.has(f.name) || !(data.values instanceof Uint8Array) || String(f.type) !== "Uint8") return data;
    const bits = new Uint8Array((data.length + 7) >> 3);
    for (let r = 0; r < data.length; r++) if (data.values[data.offset + r]) bits[r >> 3] |= 1 << (r & 7);
    return makeData({
      type: new Bool(),
      length: data.length,
      nullCount: data.nullCount,
      nullBitmap: data.nullBitmap,
      data: bits,
    });
  });
  const schema = new Schema(fields);
  return new RecordBatchClass(
    schema,
    makeData({ type: new Struct(fields), length: batch.numRows, children, nullCount: 0 }),
  );
}

const ARROW_TYPE: Record<ColumnType, () => DataType> = {
  u64: () => new Uint64(),
  i64: () => new Int64(),
  u32: () => new Uint32(),
  f64: () => new Float64(),
  str: () => new Utf8(),
  bool: () => new Bool(),
};

export function emptySchema(plan: SlicePlan): Schema {
  return new Schema(plan.columns.map(([n, t]) => new Field(n, ARROW_TYPE[t](), true)));
}
