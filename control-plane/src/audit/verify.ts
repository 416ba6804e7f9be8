import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AnchorError, openAnchor, type Anchor, type AnchorTarget } from "./anchor";
import { GENESIS, parseRecord, sealIsValid } from "./chain";

export interface AuditReport {
  file: string;
  records: number;
  /** What makes the log untrustworthy, each naming its line: any one means verify fails. */
  problems: string[];
  /** What verify could not check, and what it did. */
  notes: string[];
}

export interface VerifyOptions {
  /** The log (`<data dir>/audit/audit.jsonl`). */
  file: string;
  /** The HMAC key (`<data dir>/secrets/audit.key`). */
  key: Uint8Array;
  anchor?: AnchorTarget;
}

/** `<data dir>/audit/audit.jsonl` and the key beside it, as the control plane writes them. */
export function auditPaths(dataDir: string): { file: string; keyFile: string } {
  return { file: join(dataDir, "audit", "audit.jsonl"), keyFile: join(dataDir, "secrets", "audit.key") };
}

/** Reads the key file the control plane created; verify never creates one. */
export function readAuditKey(keyFile: string): Uint8Array {
  if (!existsSync(keyFile)) throw new Error(`no audit key at ${keyFile}: not a data dir the control plane has used`);
  return Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex");
}

interface Scan {
  records: number;
  /** The seal of each record by its 1-based number, for the anchor. */
  seals: string[];
  problems: string[];
  notes: string[];
}

/**
 * Checks every record of the log: JSON, the link to the record before, the HMAC under `key`; names
 * the first bad one (line number and why) and stops checking the chain there. With an anchor, also
 * that the log still holds the anchored head at the anchored count (a removed tail shows as fewer
 * records than the anchor saw, or as another record where its head was).
 */
export async function verifyAudit(opts: VerifyOptions): Promise<AuditReport> {
  if (!existsSync(opts.file)) throw new Error(`no audit log at ${opts.file}`);
  const scan = scanLog(readFileSync(opts.file, "utf8"), opts.key);
  const report: AuditReport = { file: opts.file, records: scan.records, problems: scan.problems, notes: scan.notes };
  if (!opts.anchor) {
    report.notes.push("no anchor given (--anchor or MEVLAB_AUDIT_ANCHOR): a removed tail cannot be detected");
    return report;
  }
  const anchor = await loadAnchor(opts.anchor, opts.key, report.problems);
  if (anchor) checkAgainstAnchor(opts.anchor.uri, anchor, scan, report);
  return report;
}

function scanLog(text: string, key: Uint8Array): Scan {
  const scan: Scan = { records: 0, seals: [], problems: [], notes: [] };
  const lines = text.split("\n");
  const torn = lines[lines.length - 1] !== "";
  let prev = GENESIS;
  let legacy: boolean | undefined;
  let broken = false;
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const n = i + 1;
    const record = parseRecord(line);
    if (typeof record === "string") {
      const what = i === lines.length - 1 && torn ? `torn last line (no newline): ${record}` : record;
      if (!broken) scan.problems.push(`line ${n}: ${what}`);
      broken = true;
      return;
    }
    scan.records += 1;
    scan.seals[scan.records] = record.seal;
    legacy ??= record.legacy;
    if (broken) return;
    const why = recordProblem(record, prev, legacy, key);
    if (why) {
      scan.problems.push(`line ${n}: ${why}`);
      broken = true;
      return;
    }
    if (record.fields.outcome === "alert") {
      scan.problems.push(`line ${n}: the control plane found at start: ${String(record.fields.reason)}`);
    }
    if (record.fields.action === "audit.rotate") scan.notes.push(`line ${n}: ${String(record.fields.reason)}`);
    prev = record.seal;
  });
  if (legacy && !broken) {
    scan.problems.push(
      `records 1-${scan.records}: a pre-HMAC log (unkeyed sha256 chain): consistent, but not verifiable, ` +
        "since anyone who can write the file can rewrite it and its hashes",
    );
  }
  return scan;
}

function recordProblem(
  record: Exclude<ReturnType<typeof parseRecord>, string>,
  prev: string,
  legacy: boolean,
  key: Uint8Array,
): string | undefined {
  if (record.legacy !== legacy) return legacy ? "a keyed record in a pre-HMAC log" : "an unkeyed record (no mac)";
  if (record.prev !== prev) {
    return "bad link: prev is not the mac of the record before (a record was removed, inserted or reordered)";
  }
  if (!sealIsValid(record, key)) {
    return legacy
      ? "bad hash: the record was edited"
      : "bad HMAC: the record was edited, or the key is not the one that wrote it";
  }
  return undefined;
}

async function loadAnchor(target: AnchorTarget, key: Uint8Array, problems: string[]): Promise<Anchor | undefined> {
  try {
    const text = await target.read();
    if (text === undefined) problems.push(`anchor ${target.uri}: not found`);
    return text === undefined ? undefined : openAnchor(key, text);
  } catch (err) {
    problems.push(`anchor ${target.uri}: ${err instanceof AnchorError ? err.message : String(err)}`);
    return undefined;
  }
}

function checkAgainstAnchor(uri: string, anchor: Anchor, scan: Scan, report: AuditReport): void {
  const seen = `the anchor ${uri} of ${anchor.ts} saw ${anchor.count} records`;
  if (anchor.count > scan.records) {
    report.problems.push(`truncated: ${seen}, the log has ${scan.records}: its tail was removed`);
  } else if (anchor.count > 0 && scan.seals[anchor.count] !== anchor.head) {
    report.problems.push(`rewritten: ${seen}, but record ${anchor.count} is not the anchored head`);
  } else {
    report.notes.push(`${seen}; its head is record ${anchor.count} of the log`);
  }
}
