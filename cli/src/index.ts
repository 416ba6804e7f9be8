export * from "./kafka/broker";
export { mavenJars } from "./maven";
export { controlPlaneBus } from "./commands";
export * from "./clickhouse/server";
