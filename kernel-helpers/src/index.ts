export * from "./errors";
export * from "./bus";
// The response schemas the client's types derive from, which the control plane serves (the client entry
// has their types only); before ./client, whose type-only exports of the same names would hide them.
export * from "./client/wire";
export * from "./client/wire-promotion";
export * from "./client/wire-metrics";
export * from "./client/proto-schema";
export * from "./client";
export * from "./node-transport";
export * as contract from "@mevlab/proto";
export * from "./metrics/histogram";
export * from "./data";
