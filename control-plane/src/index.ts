export * from "./server";
export { resolveConfig, settingsFromEnv, type ControlPlaneConfig } from "./config";
export { UserStore, type UserView } from "./auth/users";
export { TokenService, loadOrCreateSecret, type Principal } from "./auth/tokens";
export { JwtKeyRing, listJwtKeys, rotateJwtKey } from "./auth/jwt-keys";
export { revokeAgentTokens } from "./auth/agent-revocations";
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
