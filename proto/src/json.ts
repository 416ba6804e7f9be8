import {
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";

/**
 * The proto3 JSON form used on REST, NDJSON and in golden vectors: field names as written in the
 * .proto (snake_case, as in the blueprint), 64-bit integers as strings, unknown fields refused.
 */
export function toWireJson<S extends DescMessage>(schema: S, msg: MessageShape<S>): JsonValue {
  return toJson(schema, msg, { useProtoFieldName: true });
}

export function fromWireJson<S extends DescMessage>(schema: S, json: JsonValue): MessageShape<S> {
  return fromJson(schema, json, { ignoreUnknownFields: false });
}

export function encode<S extends DescMessage>(schema: S, msg: MessageShape<S>): Uint8Array {
  return toBinary(schema, msg);
}

export function decode<S extends DescMessage>(schema: S, bytes: Uint8Array): MessageShape<S> {
  return fromBinary(schema, bytes);
}
