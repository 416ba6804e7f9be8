import { describe } from "@mevlab/kernel-helpers";
import type { AgentVersions } from "./agent-revocations";
import type { SessionStore } from "./sessions";
import type { Principal, TokenChecks } from "./tokens";
import type { UserStore } from "./users";

/** How often the users and agent files are looked at for changes another process made (`mevlab user ...`). */
const USERS_POLL_MS = 200;

/**
 * Whether a token with a good signature is still honoured: not on the deny-list, its session not
 * revoked, its API token not deleted, its user neither removed, disabled, nor given a new password
 * since. The users file is written by the `mevlab user` commands in another process: it is looked
 * at (a stat) before every check of a user's token and every 200 ms, and every change, there or
 * here, is announced to `onChange`, which closes the sockets of tokens refused now. Agent tokens are
 * refused once `mevlab agent-credential revoke` raised their agent's version (agent-revocations.ts).
 */
export class Revocation implements TokenChecks {
  private readonly listeners = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly users: UserStore,
    private readonly sessions: SessionStore,
    private readonly agents: AgentVersions,
    private readonly log: (line: string) => void,
  ) {
    sessions.onRevoked(() => this.emit());
    this.timer = setInterval(() => this.poll(), USERS_POLL_MS);
    this.timer.unref();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  refused(p: Principal): string | undefined {
    if (p.jti && this.sessions.isDenied(p.jti)) return "token revoked (logged out)";
    if (p.sid) {
      const session = this.sessions.get(p.sid);
      if (!session) return "session ended: log in again";
      if (session.revoked_at) return `session revoked (${session.revoked_why ?? "logged out"}): log in again`;
    }
    if (p.kind === "api" && !(p.jti && this.sessions.apiToken(p.jti))) return "API token revoked";
    // A stat (microseconds) on every check: a change is in force for the very next request.
    this.poll();
    if (p.role === "agent") {
      const revoked = (p.ver ?? 0) < this.agents.versionOf(p.sub);
      return revoked
        ? `agent credential of '${p.sub}' revoked: mint a new one with mevlab agent-credential`
        : undefined;
    }
    return this.userRefusal(p);
  }

  used(p: Principal): void {
    if (p.kind === "api" && p.jti) this.sessions.apiTokenUsed(p.jti);
  }

  /**
   * A token names the user's token version (`ver`) when it was issued; one without (minted by the
   * control plane's own tools and tests, never by a login) is refused only while its user is disabled.
   */
  private userRefusal(p: Principal): string | undefined {
    const user = this.users.get(p.sub);
    if (user?.disabled) return `user '${p.sub}' is disabled`;
    if (p.ver === undefined) return undefined;
    if (!user) return `user '${p.sub}' no longer exists`;
    if ((user.token_version ?? 0) !== p.ver)
      return "token revoked: the user's password or status changed; log in again";
    // An admin may hold viewer tokens (API tokens of a lower role); a viewer no admin token.
    if (p.role === "admin" && user.role !== "admin") return `token revoked: '${p.sub}' is no longer admin`;
    return undefined;
  }

  private poll(): void {
    const users = this.reload("users", () => this.users.reloadIfChanged());
    const agents = this.reload("agent revocations", () => this.agents.reloadIfChanged());
    if (users || agents) this.emit();
  }

  private reload(what: string, reloadIfChanged: () => boolean): boolean {
    try {
      return reloadIfChanged();
    } catch (err) {
      this.log(`${what} file changed but cannot be read; what it said before stays in force: ${describe(err)}`);
      return false;
    }
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
