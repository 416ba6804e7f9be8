import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { agentKeyOf, type TrustedKeys } from "@mevlab/kernel-helpers";
import { agentTokenVersion } from "./agent-revocations";
import { JwtKeyRing, loadOrCreateSecret } from "./jwt-keys";
import { loadOrCreateSigningKeys } from "./signing-keys";
import { TokenService } from "./tokens";

/**
 * What an agent host holds instead of the control plane's keys: a token scoped to one agent id and
 * one module (it opens the bus link and nothing else), and the public keys that verify commands and
 * policies. Minted by an admin on the control plane's host (`mevlab agent-credential`), into a 0600
 * file the agent reads at every connection (`MEVLAB_AGENT_TOKEN_FILE`): minting again renews it.
 */
export interface AgentCredential {
  format: typeof CREDENTIAL_FORMAT;
  agent_id: string;
  module: "arbitrage" | "mev";
  token: string;
  /** ISO 8601 */
  expires_at: string;
  signing_keys: TrustedKeys;
  /** The agent's own key (base64url, 32 bytes): it seals its acks and statuses with it (agent_mac). */
  agent_key: string;
}

export const CREDENTIAL_FORMAT = "mevlab.agent-credential.v1";
export const DEFAULT_AGENT_CREDENTIAL_TTL_S = 30 * 24 * 3600;
const AGENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The master key agents' own keys are derived from; only the control plane (and whoever mints) reads it. */
export const agentMasterKeyPath = (dataDir: string): string => join(dataDir, "secrets", "agent.key");

/** An agent's own key as its credential holds it, from the data dir's master key. */
export const agentKeyFor = (dataDir: string, agentId: string): Buffer =>
  agentKeyOf(loadOrCreateSecret(agentMasterKeyPath(dataDir)), agentId);

/** Where `up` keeps its agents' credentials, and where `mevlab agent` looks when told nothing. */
export const defaultCredentialPath = (dataDir: string, agentId: string): string =>
  join(dataDir, "credentials", `${agentId}.json`);

/** Mints a credential from the data dir's keys and writes it, whole or not at all, mode 0600. */
export async function mintAgentCredential(opts: {
  dataDir: string;
  agentId: string;
  module: string;
  ttlSeconds?: number;
  out?: string;
}): Promise<{ path: string; credential: AgentCredential }> {
  const { agentId, module } = opts;
  if (!AGENT_ID.test(agentId)) throw new Error(`invalid agent id '${agentId}': use 1-64 of A-Z a-z 0-9 . _ -`);
  if (module !== "arbitrage" && module !== "mev") throw new Error(`module must be arbitrage or mev, got '${module}'`);
  const ttl = opts.ttlSeconds ?? DEFAULT_AGENT_CREDENTIAL_TTL_S;
  const tokens = new TokenService(JwtKeyRing.load(opts.dataDir));
  const credential: AgentCredential = {
    format: CREDENTIAL_FORMAT,
    agent_id: agentId,
    module,
    token: await tokens.issue(agentId, "agent", ttl, { module, ver: agentTokenVersion(opts.dataDir, agentId) }),
    expires_at: new Date(Date.now() + ttl * 1000).toISOString(),
    signing_keys: loadOrCreateSigningKeys(opts.dataDir).trusted,
    agent_key: agentKeyFor(opts.dataDir, agentId).toString("base64url"),
  };
  const path = opts.out ?? defaultCredentialPath(opts.dataDir, agentId);
  writePrivate(path, JSON.stringify(credential, null, 2) + "\n");
  return { path, credential };
}

function writePrivate(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Reads and checks a credential file: private to its owner, of this format, for this agent. */
export function readAgentCredential(path: string, expect: { agentId?: string; module?: string } = {}): AgentCredential {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new Error(`${path} is readable by others: chmod 600 it (it holds the agent's token)`);
    }
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        `no agent credential at ${path}: an admin mints one on the control plane's host with ` +
          "`mevlab agent-credential --agent-id ID --module M [--out FILE]`; point MEVLAB_AGENT_TOKEN_FILE at it",
      );
    }
    throw err;
  }
  let c: AgentCredential;
  try {
    c = JSON.parse(text) as AgentCredential;
  } catch {
    throw new Error(`${path} is not an agent credential (not JSON)`);
  }
  const fields = typeof c.token === "string" && typeof c.agent_key === "string" && typeof c.signing_keys === "object";
  if (c.format !== CREDENTIAL_FORMAT || !fields) {
    throw new Error(`${path} is not a ${CREDENTIAL_FORMAT} file`);
  }
  if (expect.agentId && c.agent_id !== expect.agentId) {
    throw new Error(`${path} is the credential of agent '${c.agent_id}', not '${expect.agentId}'`);
  }
  if (expect.module && c.module !== expect.module) {
    throw new Error(`${path} is a credential for module '${c.module}', not '${expect.module}'`);
  }
  return c;
}
