export * from "./landing";
export * from "./slot";
export { normal, slotRandom } from "./random";
