import { Type, type TSchema } from "@fastify/type-provider-typebox";
import { STREAM_ALIASES, type FileCompression, type FileFormat } from "@mevlab/kernel-helpers";
import { StringEnum } from "../http/typebox";

// The scrape body's shape; the helper library's validateExport still checks every value (times,
// filters, the output inside the export roots) and words those errors itself.

const STREAMS = Object.keys(STREAM_ALIASES);
const FORMATS = Object.keys({ parquet: 0, jsonl: 0 } satisfies Record<FileFormat, 0>);
const COMPRESSIONS = Object.keys({ zstd: 0, gzip: 0, none: 0 } satisfies Record<FileCompression, 0>);

/** A field that may also be null (= absent). */
const nullable = (schema: TSchema | TSchema[], error: string, description?: string) =>
  Type.Optional(Type.Union([schema, Type.Null()].flat(), { "x-error": error, description }));

const time = (name: string, description: string) =>
  nullable([Type.String(), Type.Number()], `'${name}' must be an ISO date or unix milliseconds`, description);

const names = (field: string, description: string, minItems = 1) =>
  nullable(
    Type.Array(Type.String(), { minItems }),
    minItems > 0
      ? `${field}: '${field}' must be a non-empty list of names`
      : `${field}: '${field}' must be a list of names`,
    description,
  );

const formatError = `format: 'format' must be one of ${FORMATS.join(", ")}, not {got}`;
const compressionError = `compress: 'compression' must be one of ${COMPRESSIONS.join(", ")}, not {got}`;
const KNOWN = "start, end, types, dex, format, compress, output";

export const ScrapeBody = Type.Object(
  {
    start: time("start", "inclusive start: ISO date / date-time or unix ms"),
    from: time("start", "the helper library's name for start"),
    end: time("end", "exclusive end: ISO date / date-time or unix ms"),
    to: time("end", "the helper library's name for end"),
    types: nullable(
      Type.Array(
        StringEnum(STREAMS, { "x-error": `types: unknown type {got} in 'types' (use ${STREAMS.join(", ")})` }),
        {
          minItems: 1,
        },
      ),
      `types: 'types' must be a non-empty list of streams (${STREAMS.join(", ")})`,
      "streams to export, one file each",
    ),
    // The blueprint's empty list means every DEX (the Datasets panel sends [] with an empty filter).
    dex: names("dex", "DEX names; they filter the opportunity streams (empty: all)", 0),
    modules: names("modules", "arbitrage / mev"),
    format: nullable(StringEnum(FORMATS), formatError, "default parquet"),
    compress: nullable(StringEnum(COMPRESSIONS), compressionError, "default zstd"),
    compression: nullable(StringEnum(COMPRESSIONS), compressionError, "the helper library's name for compress"),
    output: nullable(
      Type.String(),
      "output: 'output' must be a directory path or s3://bucket/prefix",
      "a new directory under the export roots, or s3://bucket/prefix; default a new dated name",
    ),
  },
  {
    additionalProperties: false,
    description: "The blueprint's scrape body; start, end and types are required (under either name).",
    "x-error": `body must be a JSON object: {${KNOWN}}`,
    "x-unknown": `unknown field '{field}' (known: ${KNOWN})`,
  },
);

export const JobParams = Type.Object({ id: Type.String() });

export const JobsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1000,
        description: "default 100",
        "x-error": "'limit' must be an integer 1–1000",
      }),
    ),
  },
  // Other query parameters are ignored, as before (a client's cache-buster, say); bodies refuse unknown fields.
  { additionalProperties: true },
);

/** The cancel route takes no fields. */
export const NoFields = Type.Object(
  {},
  {
    additionalProperties: false,
    default: {},
    "x-error": "body must be a JSON object",
    "x-unknown": "unknown field '{field}': cancel takes no fields",
  },
);
