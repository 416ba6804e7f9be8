/** Usernames are at most 64 characters: longer ones (never a user) are counted by their first 65. */
const key = (username: string): string => username.slice(0, 65);

export interface AccountLimitOptions {
  /** Failed logins per username within `windowMs` before it is refused (default 10). */
  max?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  /** Usernames tracked at once (default 10,000); the least recently failed is forgotten first. */
  maxKeys?: number;
  now?: () => number;
}

/**
 * Failed logins per username, whether the user exists or not (so a refusal says nothing about that):
 * after `max` failures within `windowMs` the name is refused, right password or not, until the oldest
 * of them is older than the window. Beside the per-address limit, it stops a guesser that spreads
 * its tries over many addresses.
 */
export class AccountLimit {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: AccountLimitOptions = {}) {
    this.max = opts.max ?? 10;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Milliseconds until `username` may try again; 0: now. */
  retryAfterMs(username: string): number {
    const recent = this.recent(username);
    if (recent.length < this.max) return 0;
    return recent[recent.length - this.max] + this.windowMs - this.now();
  }

  failed(username: string): void {
    const recent = [...this.recent(username), this.now()].slice(-this.max);
    // Re-inserted, so that the map's order is the order of the last failure.
    this.failures.delete(key(username));
    this.failures.set(key(username), recent);
    if (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  succeeded(username: string): void {
    this.failures.delete(key(username));
  }

  private recent(username: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key(username)) ?? []).filter((t) => t > since);
  }
}
