import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** One HS256 key and its id (`kid` in every token's header). */
export interface JwtKey {
  kid: string;
  secret: Uint8Array;
}

/** The id of a key: the first 8 bytes of its SHA-256, in hex. It says nothing of the key. */
export const kidOf = (secret: Uint8Array): string => createHash("sha256").update(secret).digest("hex").slice(0, 16);

/**
 * Where the keys that sign access tokens live: `secrets/jwt.key` (the first, as it always was),
 * `secrets/jwt/<kid>.key` for those `mevlab jwt-key rotate` added and `secrets/jwt/current`, the id
 * of the key that signs (absent: jwt.key). Every key verifies: a rotation logs nobody out.
 */
export const jwtKeyPaths = (dataDir: string) => ({
  first: join(dataDir, "secrets", "jwt.key"),
  dir: join(dataDir, "secrets", "jwt"),
  current: join(dataDir, "secrets", "jwt", "current"),
});

/** HS256 signing key, created once per data dir with mode 0600. */
export function loadOrCreateSecret(path: string): Uint8Array {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(path, 0o600);
  return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
}

/**
 * The keys of a data dir: the one that signs and every one that verifies, by id. A key added by
 * `mevlab jwt-key rotate` signs from the next start; the running control plane learns of it when a
 * token names it (an agent credential minted after the rotation), by `reload()`.
 */
export class JwtKeyRing {
  private keys = new Map<string, Uint8Array>();
  private signer!: JwtKey;
  /** The id of `secrets/jwt.key`, which verifies tokens minted before key ids. */
  private firstKid = "";

  constructor(private readonly dataDir?: string) {}

  /** A ring of one key (a caller that holds the key itself: tests, tools). */
  static of(secret: Uint8Array): JwtKeyRing {
    const ring = new JwtKeyRing();
    ring.firstKid = kidOf(secret);
    ring.keys.set(ring.firstKid, secret);
    ring.signer = { kid: ring.firstKid, secret };
    return ring;
  }

  /** The keys of `dataDir`, creating the first when there is none. */
  static load(dataDir: string): JwtKeyRing {
    const ring = new JwtKeyRing(dataDir);
    ring.reload(true);
    return ring;
  }

  get current(): JwtKey {
    return this.signer;
  }

  /** The key of a token's `kid`; a token without one is from before key ids: the first key. */
  get(kid: string | undefined): Uint8Array | undefined {
    return kid === undefined ? this.keys.get(this.firstKid) : this.keys.get(kid);
  }

  get kids(): string[] {
    return [...this.keys.keys()];
  }

  /** Rereads the keys from disk; the signing key changes only at start (`andSigner`). */
  reload(andSigner = false): void {
    if (!this.dataDir) return;
    const paths = jwtKeyPaths(this.dataDir);
    const first = loadOrCreateSecret(paths.first);
    this.firstKid = kidOf(first);
    const keys = new Map([[this.firstKid, first]]);
    if (existsSync(paths.dir)) {
      for (const f of readdirSync(paths.dir).filter((n) => n.endsWith(".key"))) {
        const secret = Buffer.from(readFileSync(join(paths.dir, f), "utf8").trim(), "hex");
        keys.set(kidOf(secret), secret);
      }
    }
    this.keys = keys;
    if (!andSigner) return;
    const kid = existsSync(paths.current) ? readFileSync(paths.current, "utf8").trim() : this.firstKid;
    const secret = keys.get(kid);
    if (!secret) throw new Error(`${paths.current} names key '${kid}', which is not in ${paths.dir}`);
    this.signer = { kid, secret };
  }
}

/** `mevlab jwt-key rotate`: a new key, which signs from the control plane's next start. */
export function rotateJwtKey(dataDir: string): string {
  const paths = jwtKeyPaths(dataDir);
  loadOrCreateSecret(paths.first);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  const kid = kidOf(secret);
  writeFileSync(join(paths.dir, `${kid}.key`), secret.toString("hex"), { mode: 0o600, flag: "wx" });
  const tmp = `${paths.current}.tmp`;
  writeFileSync(tmp, kid + "\n", { mode: 0o600 });
  renameSync(tmp, paths.current);
  return kid;
}

/** Every key's id, the signing one first (for `mevlab jwt-key list`). */
export function listJwtKeys(dataDir: string): { kid: string; signing: boolean }[] {
  const ring = JwtKeyRing.load(dataDir);
  const signing = ring.current.kid;
  return [signing, ...ring.kids.filter((k) => k !== signing)].map((kid) => ({ kid, signing: kid === signing }));
}
