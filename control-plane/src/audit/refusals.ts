import type { AuditEntry, AuditLog } from "./log";

export interface RefusalLogOptions {
  /** One window per address and action (default 60 s). */
  windowMs?: number;
  /** Addresses tracked at once (default 1,000); refusals from addresses beyond it share one window. */
  maxKeys?: number;
  now?: () => number;
}

/** Names of users in one summary, at most. */
const MAX_NAMES = 5;
/** A refused caller's strings as written: a login body may carry up to 64 KiB of "username". */
const MAX_FIELD = 64;

interface Window {
  start: number;
  ip: string;
  action: string;
  target: string;
  more: number;
  users: Set<string>;
}

/**
 * Audits refusals of anonymous callers (failed logins, bad or expired tokens) without letting one of
 * them fill the disk: the first refusal per address and action in a window is written at once, the
 * rest are counted and written as one summary record when the window ends (on a later refusal, on the
 * timer, or on close). At most one record plus one summary per address, action and minute, and the
 * number of addresses tracked at once is capped.
 */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditLog,
    opts: RefusalLogOptions = {},
  ) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxKeys = opts.maxKeys ?? 1_000;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.flush(), this.windowMs);
    this.timer.unref();
  }

  /** Audits one refusal (`outcome` denied); `entry.ip` is the caller's address. */
  record(entry: Omit<AuditEntry, "outcome">): void {
    const now = this.now();
    const ip = entry.ip ?? "";
    let key = `${ip}\u0000${entry.action}`;
    const open = this.windows.get(key);
    if (open && now - open.start >= this.windowMs) this.close(key, open);
    else if (!open && this.windows.size >= this.maxKeys) key = `*\u0000${entry.action}`;
    const current = this.windows.get(key);
    const user = clip(entry.user);
    if (current) {
      current.more += 1;
      if (current.users.size <= MAX_NAMES) current.users.add(user);
      return;
    }
    this.windows.set(key, { start: now, ip, action: entry.action, target: entry.target, more: 0, users: new Set() });
    this.audit.write({ ...entry, user, target: clip(entry.target), outcome: "denied" });
  }

  /** Writes the summaries of windows that have ended. */
  flush(force = false): void {
    const now = this.now();
    for (const [key, w] of this.windows) if (force || now - w.start >= this.windowMs) this.close(key, w);
  }

  /** Writes every pending summary; the audit log is still open. */
  stop(): void {
    clearInterval(this.timer);
    this.flush(true);
  }

  private close(key: string, w: Window): void {
    this.windows.delete(key);
    if (w.more === 0) return;
    const names = [...w.users].slice(0, MAX_NAMES);
    const others = w.users.size > MAX_NAMES ? ", …" : "";
    const from = key.startsWith("*\u0000") ? "addresses beyond the tracked ones" : w.ip;
    this.audit.write({
      user: names.join(", ") + others,
      role: "anonymous",
      action: w.action,
      target: clip(w.target),
      outcome: "denied",
      reason: `${w.more} more refused from ${from} in the ${this.windowMs / 1000} s after ${new Date(w.start).toISOString()}`,
      ip: w.ip,
    });
  }
}

function clip(s: string): string {
  return s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD)}…` : s;
}
