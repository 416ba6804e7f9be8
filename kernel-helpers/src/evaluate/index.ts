// The Node entry @mevlab/kernel-helpers/evaluate: score a trained ONNX model with onnxruntime-node.
export * from "./metrics";
export * from "./columns";
export * from "./model";
export * from "./onnx-metadata";
export * from "./onnx-contract";
export * from "./ev";
export * from "./evaluate";
export * from "./compare";
export * from "./policy";
export { validatePolicy, ladderOrderProblem, MAX_RUNGS, POLICY_MESSAGES } from "../client/policy-rules";
export type { PolicyFields, PolicyProblem } from "../client/policy-rules";
