import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface AuditEntry {
  user: string;
  role: string;
  action: string;
  target: string;
  outcome: "accepted" | "denied";
  reason?: string;
  request_id?: string;
  ip?: string;
}

/**
 * Append-only audit log, one JSON line per mutation (accepted or denied). Each line carries the hash
 * of the previous one, so an edit or a deletion breaks the chain.
 */
export class AuditLog {
  private prev: string;
  private readonly fd: number;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.prev = existsSync(path) ? lastHash(readFileSync(path, "utf8")) : "0".repeat(64);
    this.fd = openSync(path, "a", 0o600);
  }

  write(entry: AuditEntry): void {
    const body = JSON.stringify({ ts: new Date().toISOString(), ...entry, prev: this.prev });
    const hash = createHash("sha256").update(body).digest("hex");
    // The line is the hashed object with `hash` appended (what JSON.stringify({...body, hash}) gives),
    // built without serializing the entry twice. Synchronous on purpose: the record is on disk before
    // the command is published.
    writeSync(this.fd, `${body.slice(0, -1)},"hash":"${hash}"}\n`);
    this.prev = hash;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function lastHash(text: string): string {
  const lines = text.trimEnd().split("\n").filter(Boolean);
  if (lines.length === 0) return "0".repeat(64);
  return (JSON.parse(lines[lines.length - 1]) as { hash: string }).hash;
}
