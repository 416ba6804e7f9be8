import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Per agent id, the version its tokens must carry (`ver`): `mevlab agent-credential revoke` raises
 * it, which refuses every token minted before (and closes their links); a credential minted after
 * carries the new one. Written by the CLI, read by the control plane (a stat before each check).
 * An agent absent from the file is at version 0, as are tokens minted before versions existed.
 */
export const agentVersionsPath = (dataDir: string): string => join(dataDir, "credentials", "revoked.json");

type Versions = Record<string, number>;

function read(path: string): Versions {
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { agents?: Versions };
    return parsed.agents ?? {};
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** The version a credential minted now carries. */
export const agentTokenVersion = (dataDir: string, agentId: string): number =>
  read(agentVersionsPath(dataDir))[agentId] ?? 0;

/** Refuses every token of `agentId` minted so far; returns the new version. */
export function revokeAgentTokens(dataDir: string, agentId: string): number {
  const path = agentVersionsPath(dataDir);
  const agents = read(path);
  agents[agentId] = (agents[agentId] ?? 0) + 1;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ agents }, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, path);
  return agents[agentId];
}

/** The control plane's view of the file, reread when it changed. */
export class AgentVersions {
  private versions: Versions = {};
  private seen = "";

  constructor(private readonly path: string) {
    this.reloadIfChanged();
  }

  versionOf(agentId: string): number {
    return this.versions[agentId] ?? 0;
  }

  /** True when the file changed since the last look; throws (keeping the old view) when it does not parse. */
  reloadIfChanged(): boolean {
    const s = statSync(this.path, { throwIfNoEntry: false });
    const stamp = s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : "none";
    if (stamp === this.seen) return false;
    this.seen = stamp;
    this.versions = read(this.path);
    return true;
  }
}
