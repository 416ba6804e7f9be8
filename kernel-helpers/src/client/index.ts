export * from "./http";
export * from "./realtime";
export * from "./control-plane";
