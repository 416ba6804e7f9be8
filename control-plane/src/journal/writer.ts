import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface JournalWriterOptions {
  /** fdatasync after each append: the line survives a crash or a power loss once `append` returns. */
  fsync: boolean;
}

/** An append-only JSONL file, mode 0600 in a 0700 directory; each append is one line, written whole. */
export class JournalWriter {
  private readonly fd: number;
  private open = true;

  constructor(
    readonly file: string,
    private readonly opts: JournalWriterOptions,
  ) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.fd = openSync(file, "a", 0o600);
  }

  /** Appends `line` (without its newline). Synchronous: it is on disk (with `fsync`) when this returns. */
  append(line: string): void {
    const bytes = Buffer.from(line + "\n", "utf8");
    // A file write returns short only when the disk is full; the rest is retried so that the error,
    // if any, is thrown here and not left as a torn line.
    for (let off = 0; off < bytes.length;) off += writeSync(this.fd, bytes, off);
    if (this.opts.fsync) fdatasyncSync(this.fd);
  }

  get isOpen(): boolean {
    return this.open;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}
