export * from "./agent";
export * from "./state";
export * from "./simulate";
export * from "./persist";
export * from "./market";
export * from "./trader";
export * from "./model";
export * from "./history";
