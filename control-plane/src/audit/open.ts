import { loadOrCreateSecret } from "../auth/tokens";
import type { ControlPlaneConfig } from "../config";
import { anchorTarget } from "./anchor";
import { AuditLog } from "./log";
import { auditPaths } from "./verify";

/** The control plane's audit log: its key (created once, 0600), its anchor and its fsync setting. */
export function openAuditLog(config: ControlPlaneConfig): Promise<AuditLog> {
  const { file, keyFile } = auditPaths(config.dataDir);
  const anchor = config.auditAnchor ? anchorTarget(config.auditAnchor, config.dataDir) : undefined;
  if (!anchor) config.log("audit: MEVLAB_AUDIT_ANCHOR is not set: a removed tail of the audit log goes unnoticed");
  return AuditLog.open({
    file,
    key: loadOrCreateSecret(keyFile),
    fsync: config.journalFsync,
    anchor,
    anchorEveryMs: config.auditAnchorEveryMs,
    log: config.log,
  });
}
