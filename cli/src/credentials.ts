import { resolve } from "node:path";
import {
  listJwtKeys,
  mintAgentCredential,
  revokeAgentTokens,
  rotateJwtKey,
  rotateSigningKey,
} from "@mevlab/control-plane";
import { intOption, parseArgs } from "./args";
import { dataDirOf } from "./commands";

const say = (line: string): void => void process.stdout.write(line + "\n");

/**
 * `mevlab agent-credential --agent-id ID --module M [--ttl-days N] [--out FILE] [--data-dir D]`: an
 * admin on the control plane's host mints (or renews) an agent's credential file.
 */
export async function runAgentCredential(argv: readonly string[]): Promise<void> {
  if (argv[0] === "revoke") return revokeAgentCredential(argv.slice(1));
  const o = parseArgs(argv, {
    "agent-id": "string",
    module: "string",
    "ttl-days": "string",
    out: "string",
    "data-dir": "string",
  });
  if (typeof o["agent-id"] !== "string" || typeof o.module !== "string") {
    throw new Error("usage: mevlab agent-credential --agent-id ID --module arbitrage|mev [--ttl-days 30] [--out FILE]");
  }
  const days = intOption(o["ttl-days"], "ttl-days", 30);
  if (days < 1 || days > 365) throw new Error(`--ttl-days must be 1-365, got ${days}`);
  const { path, credential } = await mintAgentCredential({
    dataDir: dataDirOf(o["data-dir"]),
    agentId: o["agent-id"],
    module: o.module,
    ttlSeconds: days * 24 * 3600,
    out: typeof o.out === "string" ? resolve(o.out) : undefined,
  });
  say(`agent credential for ${credential.agent_id} (${credential.module}) written to ${path} (mode 0600)`);
  say(`valid until ${credential.expires_at}; run this again to renew it (the agent rereads the file on reconnect)`);
  say(`give the agent MEVLAB_AGENT_TOKEN_FILE=${path}`);
}

/**
 * `mevlab agent-credential revoke --agent-id ID [--data-dir D]`: every credential of that agent minted
 * so far is refused, and a running control plane closes its link within a second; mint a new one.
 */
function revokeAgentCredential(argv: readonly string[]): void {
  const o = parseArgs(argv, { "agent-id": "string", "data-dir": "string" });
  if (typeof o["agent-id"] !== "string") throw new Error("usage: mevlab agent-credential revoke --agent-id ID");
  revokeAgentTokens(dataDirOf(o["data-dir"]), o["agent-id"]);
  say(`every credential of agent ${o["agent-id"]} minted so far is revoked; its link is closed at once`);
  say("mint a new one (mevlab agent-credential) to let the agent back in");
}

/** `mevlab signing-key rotate [--data-dir D]`: a new key signs commands; agents need renewed credentials. */
export function runSigningKey(argv: readonly string[]): void {
  const [verb, ...rest] = argv;
  if (verb !== "rotate") throw new Error("usage: mevlab signing-key rotate [--data-dir D]");
  const o = parseArgs(rest, { "data-dir": "string" });
  const key = rotateSigningKey(dataDirOf(o["data-dir"]));
  say(`signing key ${key.keyId} is now current (older keys stay trusted);`);
  say("renew every agent's credential so it trusts the new key, then restart the control plane");
}

/**
 * `mevlab jwt-key rotate | list [--data-dir D]`: a new key signs access tokens from the control
 * plane's next start; every older key still verifies, so nobody is logged out.
 */
export function runJwtKey(argv: readonly string[]): void {
  const [verb, ...rest] = argv;
  if (verb !== "rotate" && verb !== "list") throw new Error("usage: mevlab jwt-key rotate | list [--data-dir D]");
  const dataDir = dataDirOf(parseArgs(rest, { "data-dir": "string" })["data-dir"]);
  if (verb === "list") {
    for (const k of listJwtKeys(dataDir)) say(`${k.kid}${k.signing ? "  signing" : ""}`);
    return;
  }
  const kid = rotateJwtKey(dataDir);
  say(`jwt key ${kid} signs access tokens from the control plane's next start;`);
  say("the older keys keep verifying the tokens they signed: nobody is logged out");
}
