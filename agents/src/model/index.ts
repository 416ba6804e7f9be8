export { ModelHost, ModelRefused, sha256Hex, type Scored } from "./host";
export { AgentModels, type Staged } from "./models";
export { httpModelSource, dirModelSource, type ModelSource, type HttpModelSourceOptions } from "./source";
export { rowWriter, COMPUTABLE_FEATURES } from "./inputs";
