import { ResponseError } from "../errors";
import { requestJson, type FetchLike } from "./http";
import type { LoginResponse } from "./wire";

/** A refresh this long before the access token expires, or a quarter of its life when shorter. */
const LEAD_MS = 60_000;
/** After a refresh that could not reach the control plane, the next try. */
const RETRY_MS = 5_000;

type SessionState = "active" | "ended";

/**
 * The tokens a client holds: an access token and, from a login, the refresh token that renews it.
 * It refreshes on a timer before the access token expires (so a WebSocket opened in the session
 * stays open: the control plane extends it while the session is refreshed), before a request when
 * the timer has not run (a laptop that slept), and once after a 401. One refresh at a time: a
 * refresh token is good for one use, and a second use ends the session.
 */
export class AuthSession {
  private state: SessionState = "active";
  private refreshing?: Promise<boolean>;
  private timer?: ReturnType<typeof setTimeout>;
  private lifetime: number;
  private readonly endedListeners = new Set<(reason: string) => void>();

  constructor(
    private readonly fetchImpl: FetchLike,
    private readonly url: string,
    private access: string,
    private expires: number,
    private refreshToken?: string,
  ) {
    this.lifetime = Math.max(0, expires - Date.now());
    this.schedule();
  }

  static fromLogin(fetchImpl: FetchLike, url: string, res: LoginResponse): AuthSession {
    return new AuthSession(fetchImpl, url, res.access_token, Date.now() + res.expires_in * 1000, res.refresh_token);
  }

  get token(): string {
    return this.access;
  }

  get expiresAt(): number {
    return this.expires;
  }

  /** A login's session can be refreshed; an API token cannot. */
  get refreshable(): boolean {
    return this.refreshToken !== undefined && this.state === "active";
  }

  /** Called once when the session can no longer be refreshed (revoked, expired, logged out). */
  onEnded(listener: (reason: string) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** The access token, refreshed first when it is about to expire. */
  async fresh(): Promise<string> {
    if (this.refreshable && Date.now() >= this.expires - this.lead()) await this.refresh();
    return this.access;
  }

  /**
   * Exchanges the refresh token for new tokens; false when the session cannot be refreshed (then
   * `onEnded` listeners have been told why). Concurrent callers share one exchange.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshable) return Promise.resolve(false);
    this.refreshing ??= this.exchange().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Stops refreshing (on close and logout). */
  stop(reason = "closed"): void {
    clearTimeout(this.timer);
    if (this.state === "ended") return;
    this.state = "ended";
    for (const l of this.endedListeners) l(reason);
  }

  private async exchange(): Promise<boolean> {
    try {
      const res = await requestJson<LoginResponse>(this.fetchImpl, this.url, "/api/auth/refresh", {
        method: "POST",
        body: JSON.stringify({ refresh_token: this.refreshToken }),
      });
      this.access = res.access_token;
      this.lifetime = res.expires_in * 1000;
      this.expires = Date.now() + this.lifetime;
      this.refreshToken = res.refresh_token;
      this.schedule();
      return true;
    } catch (err) {
      if (err instanceof ResponseError && err.status === 401) {
        this.stop(`session ended: ${err.message}`);
        return false;
      }
      // Unreachable or busy: try again soon, while the access token lasts.
      this.schedule(RETRY_MS);
      throw err;
    }
  }

  private lead(): number {
    return Math.min(LEAD_MS, this.lifetime / 4);
  }

  private schedule(inMs?: number): void {
    clearTimeout(this.timer);
    if (!this.refreshable) return;
    const delay = inMs ?? Math.max(0, this.expires - this.lead() - Date.now());
    // A failed refresh has scheduled its retry; a request that needs the token meets the error itself.
    this.timer = setTimeout(() => void this.refresh().catch(() => false), delay);
    // In Node, a session does not keep a notebook's process alive; browsers have no unref.
    (this.timer as { unref?: () => void }).unref?.();
  }
}
