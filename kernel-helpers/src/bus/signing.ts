import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from "node:crypto";
import {
  AgentStatusSchema,
  ControlAckSchema,
  ControlCommandSchema,
  PolicySchema,
  SignatureSchema,
  create,
  toBinary,
  type AgentStatus,
  type ControlAck,
  type ControlCommand,
  type Policy,
} from "@mevlab/proto";

/**
 * Ed25519 signatures on what the control plane tells the agents (proto/TOPICS.md, "Signatures"):
 * every ControlCommand and Policy. The bytes signed are the message's binary encoding with its
 * `signature` field absent; a key is named by `key_id`, the first 16 hex digits of the SHA-256 of
 * its raw 32-byte public key. Only the control plane holds a private key; agents hold public keys.
 */

/** A private key with its id, as the control plane holds it. */
export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
  /** The raw 32-byte public key, base64url: what agents are given. */
  publicKey: string;
}

/** Public keys by key id: what an agent trusts. */
export type TrustedKeys = Readonly<Record<string, string>>;

const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: "der", type: "spki" })).subarray(ED25519_SPKI_PREFIX.length);
}

export const keyIdOf = (rawPublic: Uint8Array): string =>
  createHash("sha256").update(rawPublic).digest("hex").slice(0, 16);

/** A key from its PKCS#8 PEM (as stored), or a new one. */
export function signingKey(pkcs8Pem?: string): SigningKey {
  const privateKey = pkcs8Pem ? createPrivateKey(pkcs8Pem) : generateKeyPairSync("ed25519").privateKey;
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("a signing key must be Ed25519");
  const raw = rawPublicKey(createPublicKey(privateKey));
  return { keyId: keyIdOf(raw), privateKey, publicKey: raw.toString("base64url") };
}

export const signingKeyPem = (key: SigningKey): string =>
  key.privateKey.export({ format: "pem", type: "pkcs8" }).toString();

const commandBytes = (cmd: ControlCommand): Uint8Array =>
  toBinary(ControlCommandSchema, { ...cmd, signature: undefined });
const policyBytes = (p: Policy): Uint8Array => toBinary(PolicySchema, { ...p, signature: undefined });

const signatureOf = (key: SigningKey, bytes: Uint8Array) =>
  create(SignatureSchema, { keyId: key.keyId, ed25519: sign(null, bytes, key.privateKey) });

/** Signs a policy in place (its fields final) and returns it. */
export function signPolicy(policy: Policy, key: SigningKey): Policy {
  policy.signature = signatureOf(key, policyBytes(policy));
  return policy;
}

/** Signs a command in place (its fields final, a policy inside already signed) and returns it. */
export function signCommand(cmd: ControlCommand, key: SigningKey): ControlCommand {
  cmd.signature = signatureOf(key, commandBytes(cmd));
  return cmd;
}

/** Checks signatures against the keys an agent trusts; each check returns why it fails, or undefined. */
export class SignatureVerifier {
  private readonly keys = new Map<string, KeyObject>();

  constructor(trusted: TrustedKeys) {
    for (const [keyId, raw] of Object.entries(trusted)) {
      const bytes = Buffer.from(raw, "base64url");
      if (bytes.length !== 32 || keyIdOf(bytes) !== keyId) throw new Error(`trusted key ${keyId} is not its key id`);
      this.keys.set(
        keyId,
        createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, bytes]), format: "der", type: "spki" }),
      );
    }
    if (this.keys.size === 0) throw new Error("no trusted signing keys");
  }

  /** Why a command may not be applied: its signature, its policy's, or a `not_after` of 0 (never expires). */
  command(cmd: ControlCommand): string | undefined {
    const bad = this.check("command", cmd.signature, () => commandBytes(cmd));
    if (bad) return bad;
    if (cmd.notAfter === 0n) return "not_after is 0: a command must expire";
    const policy = cmd.args?.policy;
    return policy ? this.policy(policy) : undefined;
  }

  policy(policy: Policy): string | undefined {
    return this.check("policy", policy.signature, () => policyBytes(policy));
  }

  private check(what: string, sig: ControlCommand["signature"], bytes: () => Uint8Array): string | undefined {
    if (!sig || sig.ed25519.length === 0) return `${what} is not signed`;
    const key = this.keys.get(sig.keyId);
    if (!key) return `${what} is signed by unknown key '${sig.keyId}'`;
    if (sig.ed25519.length !== 64 || !verify(null, bytes(), key, sig.ed25519)) return `${what} signature is invalid`;
    return undefined;
  }
}

/*
 * What agents tell the control plane is authenticated the other way round: each agent holds a key of
 * its own (in its credential), derived by the control plane from a master key only it holds, and puts
 * the HMAC-SHA256 of each ack and status, with `agent_mac` absent, in `agent_mac`. On Kafka, where
 * anyone who reaches the broker can publish, an ack or a heartbeat in another agent's name, or of an
 * agent nobody issued a credential to, then does not verify.
 */

const AGENT_KEY_CONTEXT = "mevlab agent key v1\u0000";

/** An agent's own key: HMAC-SHA256 of its id under the master key. */
export const agentKeyOf = (masterKey: Uint8Array, agentId: string): Buffer =>
  createHmac("sha256", masterKey)
    .update(AGENT_KEY_CONTEXT + agentId)
    .digest();

const ackBytes = (ack: ControlAck): Uint8Array => toBinary(ControlAckSchema, { ...ack, agentMac: new Uint8Array(0) });
const statusBytes = (s: AgentStatus): Uint8Array => toBinary(AgentStatusSchema, { ...s, agentMac: new Uint8Array(0) });
const mac = (key: Uint8Array, bytes: Uint8Array): Buffer => createHmac("sha256", key).update(bytes).digest();

/** Seals an ack in place with the agent's key and returns it. */
export function sealAck(ack: ControlAck, agentKey: Uint8Array): ControlAck {
  ack.agentMac = mac(agentKey, ackBytes(ack));
  return ack;
}

export function sealStatus(status: AgentStatus, agentKey: Uint8Array): AgentStatus {
  status.agentMac = mac(agentKey, statusBytes(status));
  return status;
}

/** The control plane's check of what agents send; each check returns why it fails, or undefined. */
export class AgentMacVerifier {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly masterKey: Uint8Array) {}

  ack(ack: ControlAck): string | undefined {
    return this.check(ack.agentId, ack.agentMac, () => ackBytes(ack));
  }

  status(status: AgentStatus): string | undefined {
    return this.check(status.agentId, status.agentMac, () => statusBytes(status));
  }

  private check(agentId: string, got: Uint8Array, bytes: () => Uint8Array): string | undefined {
    if (got.length === 0) return "not sealed";
    let key = this.keys.get(agentId);
    if (!key) {
      if (this.keys.size >= 10_000) this.keys.clear();
      this.keys.set(agentId, (key = agentKeyOf(this.masterKey, agentId)));
    }
    const want = mac(key, bytes());
    return got.length === want.length && timingSafeEqual(got, want) ? undefined : "bad agent_mac";
  }
}
