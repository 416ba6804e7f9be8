export * from "./server";
export { resolveConfig, settingsFromEnv, type ControlPlaneConfig } from "./config";
export { UserStore } from "./auth/users";
export { TokenService, loadOrCreateSecret } from "./auth/tokens";
export { clickHouseDdl } from "./sink/tables";
