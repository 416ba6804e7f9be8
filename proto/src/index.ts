export * from "./gen/mevlab/v1/control_pb";
export * from "./gen/mevlab/v1/market_pb";
export * from "./gen/mevlab/v1/realtime_pb";
export * from "./gen/mevlab/v1/link_pb";
export * from "./topics";
export * from "./json";
export { create, equals, clone, isMessage, toJson, toBinary, fromBinary } from "@bufbuild/protobuf";
export type { DescMessage, JsonValue, MessageShape, MessageInitShape } from "@bufbuild/protobuf";
