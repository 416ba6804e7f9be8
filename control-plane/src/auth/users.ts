import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { hash, verify } from "@node-rs/argon2";

export type UserRole = "admin" | "viewer";

interface UserRecord {
  username: string;
  role: UserRole;
  /** argon2id PHC string */
  hash: string;
  created_at: string;
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
// Verified against for unknown users, so a wrong name costs the same time as a wrong password.
const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$dcAdGzIGp0m+DfU9C6r5yg$xBtfLLVMBDiW5NgjdMhRbuHjlO+UG1WLJFJeXCqhqMk";

/** Users file under the data dir: argon2id hashes, written atomically, mode 0600. */
export class UserStore {
  private users: UserRecord[];

  constructor(private readonly path: string) {
    this.users = existsSync(path) ? readUsers(path) : [];
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

  async add(username: string, password: string, role: UserRole): Promise<void> {
    if (!USERNAME.test(username)) throw new Error(`invalid username '${username}': use 1-64 of A-Z a-z 0-9 . _ @ -`);
    if (password.length < 8) throw new Error("password must be at least 8 characters");
    if (this.has(username)) throw new Error(`user '${username}' exists`);
    this.users.push({ username, role, hash: await hash(password), created_at: new Date().toISOString() });
    this.save();
  }

  /** The user's role if the password is right, else undefined. */
  async authenticate(username: string, password: string): Promise<UserRole | undefined> {
    const user = this.users.find((u) => u.username === username);
    const ok = await verify(user?.hash ?? DUMMY_HASH, password).catch(() => false);
    return user && ok ? user.role : undefined;
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ users: this.users }, null, 2) + "\n", { mode: 0o600 });
    renameSync(tmp, this.path);
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
