import type { ControlPlaneConfig } from "../config";
import { modelsDir } from "../training/run";
import { S3ModelStore } from "./s3-store";
import { LocalModelStore, type ModelStore } from "./store";

/**
 * The control plane's model store: `<data dir>/models`, where training jobs publish, backed by S3
 * when `modelStore` (MEVLAB_MODEL_STORE) names a bucket. Closed by whoever opens it.
 */
export function openModelStore(
  config: Pick<ControlPlaneConfig, "dataDir" | "modelStore" | "modelStoreS3" | "log">,
): ModelStore {
  const local = new LocalModelStore(modelsDir(config.dataDir), config.log);
  return config.modelStore ? S3ModelStore.open(local, config.modelStore, config.modelStoreS3) : local;
}
