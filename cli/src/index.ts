export * from "./kafka/broker";
export { mavenJars } from "./maven";
export { controlPlaneBus, runAgent } from "./commands";
export * from "./clickhouse/server";
