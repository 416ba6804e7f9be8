import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { UserRole } from "./users";

/**
 * A session: what one login started. Its refresh token rotates at every use; only a hash of the
 * current one is kept. Its access tokens carry its id (`sid`), so revoking it refuses them too.
 */
export interface Session {
  id: string;
  user: string;
  role: UserRole;
  /** The user's token version at login: a password change or a disable ends the session. */
  ver: number;
  /** SHA-256 of the current refresh token's secret, hex. */
  token_hash: string;
  created_at: number;
  /** When the current refresh token expires (ms). */
  expires_at: number;
  /** When the last access token issued in this session expires (ms). */
  access_expires_at: number;
  revoked_at?: number;
  revoked_why?: string;
}

/** A named API token (for notebooks): its id is the token's jti; deleting it revokes the token. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  user: string;
  role: UserRole;
  created_at: number;
  expires_at: number;
  last_used_at?: number;
}

interface Denied {
  jti: string;
  /** The token's own expiry (ms): kept until then. */
  exp: number;
}

interface SessionsFile {
  sessions: Session[];
  api_tokens: ApiTokenRecord[];
  denied: Denied[];
}

export type RefreshResult =
  { ok: true; session: Session; refreshToken: string } | { ok: false; reason: string; reused?: Session };

const PREFIX = "mvr1";
const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");
const sameHash = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));

/**
 * Sessions, API tokens and the jti deny-list, kept in one 0600 file the control plane alone writes
 * (`<data dir>/auth/sessions.json`, replaced whole and fsynced at every change), so a restart keeps
 * every revocation. Entries are dropped once nothing they refuse can still be presented.
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly apiTokens = new Map<string, ApiTokenRecord>();
  private readonly denied = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly path: string,
    private readonly refreshTtlMs: number,
  ) {
    if (!existsSync(path)) return;
    const file = readSessions(path);
    for (const s of file.sessions) this.sessions.set(s.id, s);
    for (const t of file.api_tokens) this.apiTokens.set(t.id, t);
    for (const d of file.denied) this.denied.set(d.jti, d.exp);
  }

  /** Called after anything is revoked: open sockets are checked again. */
  onRevoked(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new session, its first refresh token. */
  start(
    user: string,
    role: UserRole,
    ver: number,
    accessExpiresAt: number,
  ): { session: Session; refreshToken: string } {
    const id = randomBytes(16).toString("base64url");
    const now = Date.now();
    const secret = randomBytes(32).toString("base64url");
    const session: Session = {
      id,
      user,
      role,
      ver,
      token_hash: sha256(secret),
      created_at: now,
      expires_at: now + this.refreshTtlMs,
      access_expires_at: accessExpiresAt,
    };
    this.sessions.set(id, session);
    this.save();
    return { session, refreshToken: `${PREFIX}.${id}.${secret}` };
  }

  /**
   * Exchanges a refresh token for the next one. A token of a live session that is not its current
   * one was used before (or stolen and used by someone else first): the whole session is revoked.
   */
  refresh(token: string, accessExpiresAt: number): RefreshResult {
    const [prefix, id, secret, extra] = token.split(".");
    const session = prefix === PREFIX && extra === undefined && id && secret ? this.sessions.get(id) : undefined;
    if (!session) return { ok: false, reason: "unknown refresh token: log in again" };
    if (session.revoked_at) return { ok: false, reason: "this session was revoked: log in again" };
    if (session.expires_at <= Date.now()) return { ok: false, reason: "refresh token expired: log in again" };
    if (!sameHash(sha256(secret), session.token_hash)) {
      this.revoke(session.id, "refresh token reused");
      return { ok: false, reason: "refresh token already used: the session is revoked; log in again", reused: session };
    }
    const next = randomBytes(32).toString("base64url");
    session.token_hash = sha256(next);
    session.expires_at = Date.now() + this.refreshTtlMs;
    session.access_expires_at = Math.max(session.access_expires_at, accessExpiresAt);
    this.save();
    return { ok: true, session, refreshToken: `${PREFIX}.${id}.${next}` };
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** Until when a socket opened in this session may stay open: its last access token's expiry. */
  accessExpiry(id: string): number | undefined {
    const s = this.sessions.get(id);
    return s && !s.revoked_at ? s.access_expires_at : undefined;
  }

  /** Revokes a session: its refresh token and every access token issued in it. */
  revoke(id: string, why: string): boolean {
    const s = this.sessions.get(id);
    if (!s || s.revoked_at) return false;
    s.revoked_at = Date.now();
    s.revoked_why = why;
    this.changed();
    return true;
  }

  /** Refuses one token until it expires. */
  deny(jti: string, expSeconds: number): void {
    this.denied.set(jti, expSeconds * 1000);
    this.changed();
  }

  isDenied(jti: string): boolean {
    return this.denied.has(jti);
  }

  addApiToken(record: ApiTokenRecord): void {
    this.apiTokens.set(record.id, record);
    this.save();
  }

  apiToken(id: string): ApiTokenRecord | undefined {
    return this.apiTokens.get(id);
  }

  apiTokensOf(user: string): ApiTokenRecord[] {
    return [...this.apiTokens.values()].filter((t) => t.user === user && t.expires_at > Date.now());
  }

  /** Revokes an API token of `user`; false when they have none of that id. */
  removeApiToken(id: string, user: string): boolean {
    if (this.apiTokens.get(id)?.user !== user) return false;
    this.apiTokens.delete(id);
    this.changed();
    return true;
  }

  /** Kept in memory; written with the next change. */
  apiTokenUsed(id: string): void {
    const t = this.apiTokens.get(id);
    if (t) t.last_used_at = Date.now();
  }

  /** Writes what is in memory (the API tokens' last use), on close. */
  flush(): void {
    this.save();
  }

  private changed(): void {
    this.save();
    for (const l of this.listeners) l();
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.expires_at <= now && s.access_expires_at <= now) this.sessions.delete(id);
      else if (s.revoked_at && s.access_expires_at <= now) this.sessions.delete(id);
    }
    for (const [jti, exp] of this.denied) if (exp <= now) this.denied.delete(jti);
    for (const [id, t] of this.apiTokens) if (t.expires_at <= now) this.apiTokens.delete(id);
  }

  private save(): void {
    this.prune();
    const file: SessionsFile = {
      sessions: [...this.sessions.values()],
      api_tokens: [...this.apiTokens.values()],
      denied: [...this.denied].map(([jti, exp]) => ({ jti, exp })),
    };
    writePrivate(this.path, JSON.stringify(file) + "\n");
  }
}

function writePrivate(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Replaced whole, so never torn; one that does not parse refuses the start, naming the file. */
function readSessions(path: string): SessionsFile {
  let parsed: Partial<SessionsFile>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<SessionsFile>;
  } catch (err) {
    throw new Error(
      `${path}: not valid JSON (${(err as Error).message}); removing it ends every session and API token`,
      {
        cause: err,
      },
    );
  }
  if (!Array.isArray(parsed.sessions) || !Array.isArray(parsed.api_tokens) || !Array.isArray(parsed.denied)) {
    throw new Error(`${path}: not a sessions file (sessions, api_tokens and denied lists)`);
  }
  return parsed as SessionsFile;
}
