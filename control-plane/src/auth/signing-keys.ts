import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signingKey, signingKeyPem, type SigningKey, type TrustedKeys } from "@mevlab/kernel-helpers";

/**
 * The control plane's Ed25519 keys for commands and policies, under `<dataDir>/secrets/signing`:
 * one `<key_id>.pem` (PKCS#8, 0600) per key and `current`, the id of the key that signs. Older keys
 * stay trusted, so a rotation does not strand agents whose credentials were issued before it.
 */
export interface SigningKeys {
  current: SigningKey;
  /** Every key's public half, by key id: what agent credentials carry. */
  trusted: TrustedKeys;
}

export const signingDir = (dataDir: string): string => join(dataDir, "secrets", "signing");

function writeKey(dir: string, key: SigningKey): void {
  writeFileSync(join(dir, `${key.keyId}.pem`), signingKeyPem(key), { mode: 0o600, flag: "wx" });
  const tmp = join(dir, "current.tmp");
  writeFileSync(tmp, key.keyId + "\n", { mode: 0o600 });
  renameSync(tmp, join(dir, "current"));
}

/** The keys of a data dir; creates the first one when there is none. */
export function loadOrCreateSigningKeys(dataDir: string): SigningKeys {
  const dir = signingDir(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, "current"))) writeKey(dir, signingKey());
  const keys = readdirSync(dir)
    .filter((f) => f.endsWith(".pem"))
    .map((f) => signingKey(readFileSync(join(dir, f), "utf8")));
  const currentId = readFileSync(join(dir, "current"), "utf8").trim();
  const current = keys.find((k) => k.keyId === currentId);
  if (!current) throw new Error(`${join(dir, "current")} names key '${currentId}', which is not in ${dir}`);
  return { current, trusted: Object.fromEntries(keys.map((k) => [k.keyId, k.publicKey])) };
}

/** A new key becomes the signing one; the old ones stay trusted. The control plane reads it at start. */
export function rotateSigningKey(dataDir: string): SigningKey {
  loadOrCreateSigningKeys(dataDir);
  const key = signingKey();
  writeKey(signingDir(dataDir), key);
  return key;
}
