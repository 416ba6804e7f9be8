import { randomBytes } from "node:crypto";
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import { JwtKeyRing } from "./jwt-keys";

export { loadOrCreateSecret } from "./jwt-keys";

export type Role = "admin" | "viewer" | "agent";

export interface Principal {
  sub: string;
  role: Role;
  /** Expiry, unix seconds. */
  exp: number;
  /** An agent's module (`arbitrage`, `mev`): the only one its link session may act for. */
  module?: string;
  /** The token's id: what a deny-list names. */
  jti?: string;
  /** The session (refresh-token family) an access token belongs to. */
  sid?: string;
  /** `api`: a named API token (its id is the jti), revoked by deleting it. */
  kind?: "api";
  /** The user's token version when it was issued (users.ts). */
  ver?: number;
}

/** What a token may carry besides its subject, role and expiry. */
export type TokenClaims = Pick<Principal, "module" | "jti" | "sid" | "kind" | "ver">;

/** Whether a token whose signature is good is still honoured: revocations (revocation.ts). */
export interface TokenChecks {
  /** Why the token is refused, or undefined. */
  refused(p: Principal): string | undefined;
  /** The token was accepted for a request. */
  used?(p: Principal): void;
}

const ISSUER = "mevlab";
const VERIFIED_CACHE = 1_000;
/** A token naming a key id the ring lacks rereads the keys, at most this often. */
const RELOAD_EVERY_MS = 1_000;

export const newTokenId = (): string => randomBytes(16).toString("base64url");

export class TokenService {
  /**
   * Tokens whose signature was verified, until they expire: a signature is checked once, not on
   * every request. The checks run on every use, so a revocation is not hidden by this cache.
   */
  private readonly verified = new Map<string, Principal>();
  private readonly keys: JwtKeyRing;
  private lastReload = 0;

  constructor(
    keys: Uint8Array | JwtKeyRing,
    private readonly checks?: TokenChecks,
  ) {
    this.keys = keys instanceof JwtKeyRing ? keys : JwtKeyRing.of(keys);
  }

  /** The id of the key that signs. */
  get kid(): string {
    return this.keys.current.kid;
  }

  async issue(sub: string, role: Role, ttlSeconds: number, claims: TokenClaims = {}): Promise<string> {
    const { jti, ...rest } = claims;
    const { kid, secret } = this.keys.current;
    return new SignJWT({ role, ...rest })
      .setProtectedHeader({ alg: "HS256", kid })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setJti(jti ?? newTokenId())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(secret);
  }

  /** Verifies a token and that it is not revoked; the error message says why it is refused. */
  async verify(token: string): Promise<Principal> {
    let principal = this.verified.get(token);
    if (!principal || principal.exp * 1000 <= Date.now()) {
      principal = await this.verifySignature(token);
      if (this.verified.size >= VERIFIED_CACHE) this.verified.clear();
      this.verified.set(token, principal);
    }
    const refused = this.refused(principal);
    if (refused) throw new Error(refused);
    this.checks?.used?.(principal);
    return principal;
  }

  /** Why a token verified earlier is refused now (revoked, user disabled), or undefined. */
  refused(p: Principal): string | undefined {
    return this.checks?.refused(p);
  }

  private keyFor(token: string): Uint8Array {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new Error("invalid token");
    }
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.lastReload >= RELOAD_EVERY_MS) {
      this.lastReload = Date.now();
      this.keys.reload();
      key = this.keys.get(kid);
    }
    if (!key) throw new Error("invalid token: signed with an unknown key");
    return key;
  }

  private async verifySignature(token: string): Promise<Principal> {
    const key = this.keyFor(token);
    try {
      const { payload: p } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ["HS256"] });
      const role = p.role;
      if (role !== "admin" && role !== "viewer" && role !== "agent") throw new Error("token has no valid role");
      return {
        sub: p.sub ?? "",
        role,
        exp: p.exp ?? 0,
        ...(typeof p.module === "string" ? { module: p.module } : {}),
        ...(typeof p.jti === "string" ? { jti: p.jti } : {}),
        ...(typeof p.sid === "string" ? { sid: p.sid } : {}),
        ...(p.kind === "api" ? { kind: "api" as const } : {}),
        ...(typeof p.ver === "number" ? { ver: p.ver } : {}),
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new Error("token expired: log in again");
      throw new Error("invalid token");
    }
  }
}
