import { existsSync, renameSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { JournalWriter, replayJournal } from "../journal";
import { AnchorError, openAnchor, type Anchor, type AnchorTarget } from "./anchor";
import { GENESIS, sealIsValid, sealRecord, toRecord, type ParsedRecord } from "./chain";
import { AnchorKeeper } from "./keeper";

export interface AuditEntry {
  user: string;
  role: string;
  action: string;
  target: string;
  /** `alert`: something the control plane found wrong with the log or its anchor when it opened them. */
  outcome: "accepted" | "denied" | "alert";
  reason?: string;
  request_id?: string;
  ip?: string;
}

export interface AuditLogOptions {
  file: string;
  /** The HMAC key (`secrets/audit.key`). */
  key: Uint8Array;
  /** fdatasync each record (default true): it is on disk before the command it allows is published. */
  fsync?: boolean;
  /** Where the head is anchored (MEVLAB_AUDIT_ANCHOR); none: a truncated tail goes unnoticed. */
  anchor?: AnchorTarget;
  /** How often the anchor is rewritten when the head moved (default 10 s); also on close. */
  anchorEveryMs?: number;
  log?: (line: string) => void;
}

/** What opening found in the file: its record count, head and the seal at the anchor's count. */
interface Tail {
  count: number;
  last?: ParsedRecord;
  sealAtAnchor?: string;
}

/**
 * Append-only audit log, one JSON line per mutation (accepted or denied) and per refused login or
 * token. Each line carries the mac of the previous one and its own HMAC-SHA256 under a key only the
 * control plane holds, so an edit, a removal or a reordering breaks the chain, and nobody without the
 * key can write a chain that verifies; the head is anchored outside the data dir, so a removed tail is
 * found too (`mevlab audit verify`).
 */
export class AuditLog {
  private readonly journal: JournalWriter;
  private keeper?: AnchorKeeper;

  private constructor(
    private readonly opts: AuditLogOptions,
    private prev: string,
    private records: number,
  ) {
    // Grouped on the thread pool: the control service waits for `durable()` before it publishes the
    // command a record allows, without holding the event loop for the disk.
    this.journal = new JournalWriter(opts.file, {
      sync: (opts.fsync ?? true) ? "group" : "none",
      onSyncError: (err) => (opts.log ?? (() => undefined))(`audit: fdatasync of ${opts.file} failed: ${err.message}`),
    });
  }

  /**
   * Opens the log: a torn last line is cut off, a pre-HMAC log is set aside (renamed) and a keyed one
   * started, and the log is checked against the anchor and the key. What is wrong is logged and
   * written to the log as an `alert` record: the control plane starts all the same (it is what stops
   * the agents), and the record keeps the finding in the chain.
   */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    const log = opts.log ?? ((l: string) => process.stderr.write(`control-plane: ${l}\n`));
    const alerts: { target: string; reason: string }[] = [];
    const anchor = opts.anchor ? await readAnchor(opts.anchor, opts.key, alerts) : undefined;
    let tail = readTail(opts.file, anchor?.count, log);
    let rotation: { target: string; reason: string } | undefined;
    if (tail.last?.legacy) {
      const archived = setAside(opts.file);
      log(`audit: ${opts.file} was a pre-HMAC log (unkeyed): set aside as ${archived}, a keyed log starts`);
      const reason = `pre-HMAC log set aside: ${tail.count} records, last sha256 ${tail.last.seal}; not verifiable`;
      rotation = { target: basename(archived), reason };
      tail = { count: 0 };
    } else {
      alerts.push(...checkTail(opts, tail, anchor));
    }
    const audit = new AuditLog({ ...opts, log }, tail.last?.seal ?? GENESIS, tail.count);
    if (rotation) audit.writeSystem("audit.rotate", rotation.target, "accepted", rotation.reason);
    for (const a of alerts) {
      log(`audit: ALERT ${a.target}: ${a.reason}`);
      audit.writeSystem("audit.check", a.target, "alert", a.reason);
    }
    if (opts.anchor) {
      audit.keeper = new AnchorKeeper(opts.anchor, opts.key, () => audit.head, log);
      await audit.keeper.flush();
      audit.keeper.start(opts.anchorEveryMs ?? 10_000);
    }
    return audit;
  }

  /** Records written so far and the last one's mac. */
  get head(): { count: number; head: string } {
    return { count: this.records, head: this.prev };
  }

  /** Synchronous on purpose: the record is on disk before the command it allows is published. */
  write(entry: AuditEntry): void {
    const { line, mac } = sealRecord(this.opts.key, { ts: new Date().toISOString(), ...entry }, this.prev);
    this.journal.append(line);
    this.prev = mac;
    this.records += 1;
  }

  /** Resolves once every record written so far is on disk (rejects when the disk refuses it). */
  durable(): Promise<void> {
    return this.journal.durable();
  }

  /** Writes the anchor a last time, then closes the file. */
  async close(): Promise<void> {
    await this.keeper?.close();
    await this.journal.close();
  }

  private writeSystem(action: string, target: string, outcome: AuditEntry["outcome"], reason: string): void {
    this.write({ user: "mevlab", role: "system", action, target, outcome, reason });
  }
}

async function readAnchor(
  target: AnchorTarget,
  key: Uint8Array,
  alerts: { target: string; reason: string }[],
): Promise<Anchor | undefined> {
  try {
    const text = await target.read();
    return text === undefined ? undefined : openAnchor(key, text);
  } catch (err) {
    const why = err instanceof AnchorError ? err.message : `not readable (${String(err)})`;
    alerts.push({ target: target.uri, reason: `the anchor is unusable: ${why}` });
    return undefined;
  }
}

function readTail(file: string, anchorCount: number | undefined, log: (line: string) => void): Tail {
  const tail: Tail = { count: 0 };
  replayJournal(file, {
    log: (line) => log(`audit: ${line}`),
    apply: (value) => {
      const record = toRecord(value);
      if (typeof record === "string") throw new Error(record);
      tail.count += 1;
      tail.last = record;
      if (tail.count === anchorCount) tail.sealAtAnchor = record.seal;
    },
  });
  return tail;
}

/** The anchor's count and head against the log, and the last record's HMAC against the key. */
function checkTail(
  opts: AuditLogOptions,
  tail: Tail,
  anchor: Anchor | undefined,
): { target: string; reason: string }[] {
  const alerts: { target: string; reason: string }[] = [];
  if (anchor && opts.anchor) {
    const seen = `the anchor ${opts.anchor.uri} of ${anchor.ts} saw ${anchor.count} records`;
    if (anchor.count > tail.count) {
      alerts.push({ target: opts.file, reason: `truncated: ${seen}, the log has ${tail.count}` });
    } else if (anchor.count > 0 && tail.sealAtAnchor !== anchor.head) {
      alerts.push({ target: opts.file, reason: `rewritten: ${seen}; record ${anchor.count} is not its head` });
    }
  }
  if (tail.last && !sealIsValid(tail.last, opts.key)) {
    alerts.push({
      target: opts.file,
      reason: "the last record's HMAC does not match secrets/audit.key: the key was replaced or the record edited",
    });
  }
  return alerts;
}

/** Renames a pre-HMAC log beside itself; its records stay readable, not verifiable. */
function setAside(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  let target = join(dirname(file), `audit.pre-hmac-${stamp}.jsonl`);
  for (let i = 1; existsSync(target); i++) target = join(dirname(file), `audit.pre-hmac-${stamp}-${i}.jsonl`);
  renameSync(file, target);
  return target;
}
