import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";

export type Role = "admin" | "viewer" | "agent";

export interface Principal {
  sub: string;
  role: Role;
  /** Expiry, unix seconds. */
  exp: number;
  /** An agent's module (`arbitrage`, `mev`): the only one its link session may act for. */
  module?: string;
}

const ISSUER = "mevlab";

/** HS256 signing key, created once per data dir with mode 0600. */
export function loadOrCreateSecret(path: string): Uint8Array {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(path, 0o600);
  return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
}

const VERIFIED_CACHE = 1_000;

export class TokenService {
  /** Tokens already verified, until they expire: a signature is checked once, not on every request. */
  private readonly verified = new Map<string, Principal>();

  constructor(private readonly secret: Uint8Array) {}

  async issue(sub: string, role: Role, ttlSeconds: number, claims: { module?: string } = {}): Promise<string> {
    return new SignJWT({ role, ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.secret);
  }

  /** Verifies a token; the error message says why it is refused. */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known && known.exp * 1000 > Date.now()) return known;
    const principal = await this.verifySignature(token);
    if (this.verified.size >= VERIFIED_CACHE) this.verified.clear();
    this.verified.set(token, principal);
    return principal;
  }

  private async verifySignature(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: ISSUER, algorithms: ["HS256"] });
      const role = payload.role;
      if (role !== "admin" && role !== "viewer" && role !== "agent") throw new Error("token has no valid role");
      const module = typeof payload.module === "string" ? payload.module : undefined;
      return { sub: payload.sub ?? "", role, exp: payload.exp ?? 0, ...(module ? { module } : {}) };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new Error("token expired: log in again");
      throw new Error("invalid token");
    }
  }
}
