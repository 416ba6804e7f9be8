import { ScalarType, type DescEnum, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { Type, type TSchema } from "@sinclair/typebox";

// The JSON schema of a proto message as `toWireJson` writes it (proto3 JSON mapping, proto field
// names, default values left out), derived from the descriptor so that a field added to the contract
// is served and documented without a second description.

const LONG = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.FIXED64, ScalarType.SFIXED64, ScalarType.SINT64]);

/** A 64-bit integer as the JSON mapping writes it. */
export const int64Json = (description = "64-bit integer as a decimal string") =>
  Type.String({ pattern: "^-?[0-9]+$", description });

function scalar(t: ScalarType): TSchema {
  if (LONG.has(t)) return int64Json();
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Type.Number();
    case ScalarType.BOOL:
      return Type.Boolean();
    case ScalarType.STRING:
      return Type.String();
    case ScalarType.BYTES:
      return Type.String({ contentEncoding: "base64" });
    default:
      return Type.Integer();
  }
}

const enumSchema = (e: DescEnum): TSchema => Type.String({ enum: e.values.map((v) => v.name) });

function fieldSchema(f: DescField, depth: number): TSchema {
  switch (f.fieldKind) {
    case "scalar":
      return scalar(f.scalar);
    case "enum":
      return enumSchema(f.enum);
    case "message":
      return messageSchema(f.message, depth + 1);
    case "list":
      return Type.Array(
        f.listKind === "scalar"
          ? scalar(f.scalar)
          : f.listKind === "enum"
            ? enumSchema(f.enum)
            : messageSchema(f.message, depth + 1),
      );
    case "map":
      return Type.Record(
        Type.String(),
        f.mapKind === "scalar"
          ? scalar(f.scalar)
          : f.mapKind === "enum"
            ? enumSchema(f.enum)
            : messageSchema(f.message, depth + 1),
      );
  }
}

function properties(desc: DescMessage, depth: number): Record<string, TSchema> {
  return Object.fromEntries(desc.fields.map((f) => [f.name, Type.Optional(fieldSchema(f, depth))]));
}

function messageSchema(desc: DescMessage, depth: number): TSchema {
  if (depth > 8) return Type.Object({}, { additionalProperties: true, description: desc.typeName });
  return Type.Object(properties(desc, depth), {
    additionalProperties: false,
    description: `${desc.typeName} (proto3 JSON)`,
  });
}

/** The properties of `protoJsonSchema(desc)`, to extend. */
export const protoJsonProperties = (desc: DescMessage): Record<string, TSchema> => properties(desc, 0);

/** The wire JSON of a message of `desc`; every field optional, as defaults are not written. */
export const protoJsonSchema = (desc: DescMessage) => Type.Unsafe<JsonValue>(messageSchema(desc, 0));
