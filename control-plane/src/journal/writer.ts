import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * When an appended line reaches the disk:
 * - `each`: `append` returns once it is there (fdatasync on the event loop);
 * - `group`: an fdatasync on the thread pool starts at once and covers every line written until it
 *   ends, so the event loop never waits for the disk and one sync serves a burst of lines;
 * - `none`: when the kernel writes it back.
 */
export type SyncMode = "each" | "group" | "none";

export interface JournalWriterOptions {
  sync: SyncMode;
  /** A failed group sync (the lines it covered may not be on disk). */
  onSyncError?: (err: Error) => void;
}

/** An append-only JSONL file, mode 0600 in a 0700 directory; each append is one line, written whole. */
export class JournalWriter {
  private readonly fd: number;
  private open = true;
  private syncing = false;
  /** Lines written since the running group sync started. */
  private dirty = false;
  private idle: (() => void)[] = [];
  /** Lines appended, and how many of them a finished sync covers. */
  private written = 0;
  private synced = 0;
  /** Callers of `durable()`, each waiting for the lines written before it asked. */
  private waiting: { upTo: number; resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(
    readonly file: string,
    private readonly opts: JournalWriterOptions,
  ) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.fd = openSync(file, "a", 0o600);
  }

  /** Appends `line` (without its newline), synchronously; with `each`, it is on disk when this returns. */
  append(line: string): void {
    const bytes = Buffer.from(line + "\n", "utf8");
    // A file write returns short only when the disk is full; the rest is retried so that the error,
    // if any, is thrown here and not left as a torn line.
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
    this.written += 1;
    if (this.opts.sync === "each") {
      fdatasyncSync(this.fd);
      this.synced = this.written;
    } else if (this.opts.sync === "group") this.groupSync();
  }

  /**
   * Resolves once every line appended so far is on disk (at once with `each` and `none`). With
   * `group`, the wait is on the thread pool: the event loop goes on, and one sync serves every caller
   * of a burst. Rejects when the sync fails.
   */
  durable(): Promise<void> {
    if (this.opts.sync !== "group" || this.synced >= this.written) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.push({ upTo: this.written, resolve, reject }));
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Waits for a running group sync, makes the rest durable and closes the file. */
  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    while (this.syncing) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.opts.sync !== "none") fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.synced = this.written;
    this.settle(this.written);
  }

  private groupSync(): void {
    if (this.syncing) {
      this.dirty = true;
      return;
    }
    this.syncing = true;
    this.dirty = false;
    const upTo = this.written;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err) this.opts.onSyncError?.(err);
      else this.synced = Math.max(this.synced, upTo);
      this.settle(upTo, err ?? undefined);
      if (this.dirty && this.open) return this.groupSync();
      const idle = this.idle;
      this.idle = [];
      for (const resolve of idle) resolve();
    });
  }

  /** Answers the callers of `durable()` whose lines this sync covered. */
  private settle(upTo: number, err?: Error): void {
    const covered = this.waiting.filter((w) => w.upTo <= upTo);
    this.waiting = this.waiting.filter((w) => w.upTo > upTo);
    for (const w of covered) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}
