/**
 * The ONNX contract every mevlab model meets (docs/training.md): one input `features` float32 [N, F],
 * an output `probability` float32, F the length of its mevlab.feature_names. One check for the model
 * store, the agents and evaluate().
 */
import type { InferenceSession } from "onnxruntime-node";

type ValueInfo = InferenceSession.ValueMetadata;

const describeValue = (v: ValueInfo) =>
  v.isTensor ? `'${v.name}' ${v.type} [${v.shape.join(", ")}]` : `'${v.name}' (not a tensor)`;

/** How a loaded model's inputs and outputs break the contract, or undefined. */
export function contractProblem(
  inputs: readonly ValueInfo[],
  outputs: readonly ValueInfo[],
  featureCount: number,
): string | undefined {
  const input = inputs[0];
  if (inputs.length !== 1 || input.name !== "features") {
    return `wants exactly one input 'features', has ${inputs.map(describeValue).join(", ") || "none"}`;
  }
  if (!input.isTensor || input.type !== "float32" || input.shape.length !== 2) {
    return `input 'features' must be float32 [N, F], is ${describeValue(input)}`;
  }
  const width = input.shape[1];
  if (typeof width === "number" && width !== featureCount) {
    return `input 'features' has ${width} columns, mevlab.feature_names names ${featureCount}`;
  }
  const output = outputs.find((o) => o.name === "probability");
  if (!output) return `wants an output 'probability', has ${outputs.map(describeValue).join(", ") || "none"}`;
  if (!output.isTensor || output.type !== "float32") {
    return `output 'probability' must be float32, is ${describeValue(output)}`;
  }
  return undefined;
}
