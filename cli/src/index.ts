export * from "./kafka/broker";
export { controlPlaneBus } from "./commands";
