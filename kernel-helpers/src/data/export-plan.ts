/** An export spec checked field by field and planned as one slice per table, before anything is written. */
import { DataError } from "../errors";
import type { DatasetManifest } from "./dataset-manifest";
import { planSlice, type FileCompression, type FileFormat, type TimeBound } from "./slice";
import { DUCKDB_TYPE, EVENT_TABLES, STREAM_ALIASES, streamTable, type ColumnType, type EventTable } from "./streams";

export interface ExportSpec {
  /** Streams to export: `arb`, `mev`, `outcomes`, `metrics` (or table names); one file each. */
  types: readonly string[];
  /** Inclusive start and exclusive end, as for slices. */
  from: TimeBound;
  to: TimeBound;
  /** DEX names; they filter the opportunity streams (arb, mev) and leave the others whole. */
  dex?: readonly string[];
  /** `arbitrage` / `mev`. */
  modules?: readonly string[];
  /** Default `parquet`. */
  format?: FileFormat;
  /** Default `zstd` (inside Parquet pages, or of the whole JSON-lines file). */
  compression?: FileCompression;
  /** A new (or empty) directory inside an allowed root, or `s3://bucket/prefix`. */
  output: string;
}

const FORMATS: readonly FileFormat[] = ["parquet", "jsonl"];
const COMPRESSIONS: readonly FileCompression[] = ["zstd", "gzip", "none"];
const SPEC_FIELDS = new Set(["types", "from", "to", "dex", "modules", "format", "compression", "output"]);
const OPPORTUNITY_TABLES = new Set<EventTable>(["arb_opportunities", "mev_opportunities"]);

export interface ExportPlan {
  format: FileFormat;
  compression: FileCompression;
  extension: string;
  tables: Array<{ table: EventTable; slice: Parameters<typeof planSlice>[0] }>;
  filters: DatasetManifest["filters"];
}

export function planExport(spec: ExportSpec): ExportPlan {
  if (!spec || typeof spec !== "object") {
    throw new DataError("exportDataset needs { types, from, to, output, … }", { field: "spec" });
  }
  for (const k of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(k)) {
      throw new DataError(`unknown export field '${k}' (known: ${[...SPEC_FIELDS].join(", ")})`, { field: k });
    }
  }
  const format = spec.format ?? "parquet";
  if (!FORMATS.includes(format)) {
    throw new DataError(`'format' must be one of ${FORMATS.join(", ")}, not ${JSON.stringify(format)}`, {
      field: "format",
    });
  }
  const compression = spec.compression ?? "zstd";
  if (!COMPRESSIONS.includes(compression)) {
    throw new DataError(`'compression' must be one of ${COMPRESSIONS.join(", ")}, not ${JSON.stringify(compression)}`, {
      field: "compression",
    });
  }
  if (!Array.isArray(spec.types) || spec.types.length === 0) {
    throw new DataError(`'types' must be a non-empty list of streams (${Object.keys(STREAM_ALIASES).join(", ")})`, {
      field: "types",
    });
  }
  const tables: EventTable[] = [];
  for (const t of spec.types) {
    const table = streamTable(t);
    if (!table) {
      throw new DataError(
        `unknown type ${JSON.stringify(t)} in 'types' (use ${Object.keys(STREAM_ALIASES).join(", ")})`,
        {
          field: "types",
        },
      );
    }
    if (!tables.includes(table)) tables.push(table);
  }
  const dexTables = spec.dex === undefined ? [] : tables.filter((t) => OPPORTUNITY_TABLES.has(t));
  if (spec.dex !== undefined && dexTables.length === 0) {
    throw new DataError("'dex' filters the opportunity streams (arb, mev), and 'types' has neither", { field: "dex" });
  }
  const planned = tables.map((table) => {
    const slice = {
      stream: table,
      from: spec.from,
      to: spec.to,
      ...(spec.modules !== undefined ? { modules: spec.modules } : {}),
      ...(spec.dex !== undefined && OPPORTUNITY_TABLES.has(table) ? { dex: spec.dex } : {}),
    };
    // every filter checked before anything is written
    return { table, slice, plan: planSlice(slice) };
  });
  const first = planned[0].plan;
  return {
    format,
    compression,
    extension:
      format === "parquet" ? ".parquet" : { zstd: ".jsonl.zst", gzip: ".jsonl.gz", none: ".jsonl" }[compression],
    tables: planned.map(({ table, slice }) => ({ table, slice })),
    filters: {
      types: [...spec.types],
      from: new Date(first.fromMs).toISOString(),
      to: new Date(first.toMs).toISOString(),
      dex: spec.dex ? [...spec.dex] : null,
      dex_applies_to: dexTables,
      modules: spec.modules ? [...spec.modules] : null,
    },
  };
}

export function schemaOf(table: EventTable): Array<{ name: string; type: string }> {
  return (EVENT_TABLES[table] as ReadonlyArray<readonly [string, ColumnType]>).map(([name, t]) => ({
    name,
    type: DUCKDB_TYPE[t],
  }));
}
