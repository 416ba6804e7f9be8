export * from "./bus";
export * from "./local";
export * from "./kafka";
export * from "./link";
export * from "./typed";
export * from "./from-env";
export * from "./partition";
export { patchKafkajsIdleTimer } from "./kafkajs-idle";
export * from "./signing";
