import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { hash, verify } from "@node-rs/argon2";

export type UserRole = "admin" | "viewer";

export interface UserRecord {
  username: string;
  role: UserRole;
  /** argon2id PHC string */
  hash: string;
  created_at: string;
  /** A disabled user cannot log in, and every token of theirs is refused. */
  disabled?: boolean;
  /**
   * Carried by every token issued to the user (`ver`): raised by `passwd`, `disable` and `remove`,
   * which refuses the tokens issued before. Absent: 0.
   */
  token_version?: number;
}

/** What a listing shows of a user: never the hash. */
export type UserView = Omit<UserRecord, "hash">;

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
// Verified against for unknown users, so a wrong name costs the same time as a wrong password.
const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$dcAdGzIGp0m+DfU9C6r5yg$xBtfLLVMBDiW5NgjdMhRbuHjlO+UG1WLJFJeXCqhqMk";

const checkPassword = (password: string): void => {
  if (password.length < 8) throw new Error("password must be at least 8 characters");
};

/**
 * Users file under the data dir: argon2id hashes, written atomically, mode 0600. The `mevlab user`
 * commands write it from another process than the control plane's: every change here rereads the
 * file first, and the control plane calls `reloadIfChanged()` to see theirs.
 */
export class UserStore {
  private users: UserRecord[];
  /** The file as last read or written: changed when any of these differ. */
  private seen = "";

  constructor(private readonly path: string) {
    this.users = existsSync(path) ? readUsers(path) : [];
    this.seen = this.fileStamp();
  }

  get count(): number {
    return this.users.length;
  }

  hasAdmin(): boolean {
    return this.users.some((u) => u.role === "admin");
  }

  has(username: string): boolean {
    return this.users.some((u) => u.username === username);
  }

  get(username: string): UserRecord | undefined {
    return this.users.find((u) => u.username === username);
  }

  list(): UserView[] {
    return this.users.map(({ hash: _hash, ...view }) => view);
  }

  async add(username: string, password: string, role: UserRole): Promise<void> {
    if (!USERNAME.test(username)) throw new Error(`invalid username '${username}': use 1-64 of A-Z a-z 0-9 . _ @ -`);
    checkPassword(password);
    const hashed = await hash(password);
    this.change(() => {
      if (this.has(username)) throw new Error(`user '${username}' exists`);
      this.users.push({ username, role, hash: hashed, created_at: new Date().toISOString() });
    });
  }

  /** A new password; the user's tokens issued before are refused. */
  async setPassword(username: string, password: string): Promise<void> {
    checkPassword(password);
    const hashed = await hash(password);
    this.change(() => {
      const user = this.existing(username);
      user.hash = hashed;
      user.token_version = (user.token_version ?? 0) + 1;
    });
  }

  /** Disables (or enables again) a user; disabling refuses every token of theirs at once. */
  setDisabled(username: string, disabled: boolean): void {
    this.change(() => {
      const user = this.existing(username);
      if (disabled) this.keepAnAdmin(username, "disable");
      user.disabled = disabled || undefined;
      user.token_version = (user.token_version ?? 0) + 1;
    });
  }

  remove(username: string): void {
    this.change(() => {
      this.existing(username);
      this.keepAnAdmin(username, "remove");
      this.users = this.users.filter((u) => u.username !== username);
    });
  }

  /** The user's role if the password is right and the user is enabled, else undefined. */
  async authenticate(username: string, password: string): Promise<UserRole | undefined> {
    this.reloadIfChanged();
    const user = this.get(username);
    const ok = await verify(user?.hash ?? DUMMY_HASH, password).catch(() => false);
    return user && ok && !user.disabled ? user.role : undefined;
  }

  /**
   * Rereads the file when another process replaced it; true when it did. A file that no longer
   * parses keeps what was read before (and throws, for the caller to log).
   */
  reloadIfChanged(): boolean {
    const stamp = this.fileStamp();
    if (stamp === this.seen) return false;
    this.seen = stamp;
    this.users = existsSync(this.path) ? readUsers(this.path) : [];
    return true;
  }

  private existing(username: string): UserRecord {
    const user = this.get(username);
    if (!user) throw new Error(`no user '${username}'`);
    return user;
  }

  /** Nobody could administer the control plane any more, short of editing the file. */
  private keepAnAdmin(username: string, verb: string): void {
    const others = this.users.filter((u) => u.role === "admin" && !u.disabled && u.username !== username);
    if (this.get(username)?.role === "admin" && others.length === 0) {
      throw new Error(`'${username}' is the last enabled admin: add another admin before you ${verb} it`);
    }
  }

  /** Reads the file as it is now, applies `edit` and writes it back whole. */
  private change(edit: () => void): void {
    this.users = existsSync(this.path) ? readUsers(this.path) : [];
    edit();
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ users: this.users }, null, 2) + "\n", { mode: 0o600 });
    renameSync(tmp, this.path);
    this.seen = this.fileStamp();
  }

  private fileStamp(): string {
    const s = statSync(this.path, { throwIfNoEntry: false });
    return s ? `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : "none";
  }
}

/**
 * The users file is replaced whole (written beside it, then renamed), so it is never torn; one that
 * does not parse refuses the start with its name rather than be taken for "no users".
 */
function readUsers(path: string): UserRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message}); restore it from a backup`, { cause: err });
  }
  const users = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) throw new Error(`${path}: not a users file (no "users" list)`);
  return users as UserRecord[];
}

/** `user:password` from MEVLAB_BOOTSTRAP_ADMIN; creates that admin while the store has no admin. */
export async function bootstrapAdmin(store: UserStore, spec: string | undefined): Promise<string | undefined> {
  if (!spec || store.hasAdmin()) return undefined;
  const i = spec.indexOf(":");
  if (i <= 0) throw new Error("MEVLAB_BOOTSTRAP_ADMIN must be user:password");
  const username = spec.slice(0, i);
  await store.add(username, spec.slice(i + 1), "admin");
  return username;
}
