export * from "./kafka/broker";
export { controlPlaneBus } from "./commands";
export * from "./clickhouse/server";
