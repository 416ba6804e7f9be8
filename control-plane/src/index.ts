export * from "./server";
export { resolveConfig, settingsFromEnv, type ControlPlaneConfig } from "./config";
export { UserStore } from "./auth/users";
export { TokenService, loadOrCreateSecret } from "./auth/tokens";
export { clickHouseDdl } from "./sink/tables";
export {
  mintAgentCredential,
  readAgentCredential,
  defaultCredentialPath,
  agentKeyFor,
  type AgentCredential,
} from "./auth/agent-credentials";
export { loadOrCreateSigningKeys, rotateSigningKey } from "./auth/signing-keys";
export { anchorTarget } from "./audit/anchor";
export { auditPaths, readAuditKey, verifyAudit, type AuditReport } from "./audit/verify";
