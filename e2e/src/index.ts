export * from "./stack";
export * from "./probe";
