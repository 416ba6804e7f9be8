export * from "./errors";
export * from "./bus";
export * from "./client";
export * from "./node-transport";
export * as contract from "@mevlab/proto";
export * from "./metrics/histogram";
export * from "./data";
