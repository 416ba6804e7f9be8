import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import type { JsonValue } from "@mevlab/proto";

/** A journal line the control plane cannot start from: `file:line: why`. */
export class JournalError extends Error {
  override readonly name = "JournalError";
  constructor(
    readonly file: string,
    readonly line: number,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`${file}:${line}: ${why}`, options);
  }
}

export interface ReplayOptions {
  /** Called for each line in order with its JSON and its 1-based line number; a throw refuses the journal. */
  apply: (value: JsonValue, line: number) => void;
  /** Where the repair of a torn last line is reported. */
  log: (line: string) => void;
}

export interface ReplayResult {
  /** Lines applied (blank lines are skipped). */
  lines: number;
  /** Bytes cut off the end: a torn last line. */
  droppedBytes: number;
}

const NEWLINE = 0x0a;
const BLANK = Symbol("blank");
const BAD = Symbol("bad");
type Parsed = JsonValue | typeof BLANK | typeof BAD;

/**
 * Replays a JSONL journal. A crash mid-append can only damage the last line: if it has no newline and
 * is not JSON, or it ends in a newline but is not JSON (a file extended with zeros after a power
 * loss), it is cut off the file, and the file, the line and the bytes dropped are logged. A last line
 * that is whole JSON but lacks its newline is kept and given one. Anything wrong on any other line, or
 * a line that is JSON but not a record `apply` accepts, refuses the journal with `file:line: why`.
 */
export function replayJournal(file: string, opts: ReplayOptions): ReplayResult {
  if (!existsSync(file)) return { lines: 0, droppedBytes: 0 };
  const buf = readFileSync(file);
  const lines: { start: number; end: number }[] = [];
  for (let start = 0; start < buf.length;) {
    const nl = buf.indexOf(NEWLINE, start);
    const end = nl < 0 ? buf.length : nl + 1;
    lines.push({ start, end });
    start = end;
  }
  const parsed: Parsed[] = lines.map(({ start, end }) => parseLine(buf, start, end));
  let keep = buf.length;
  let completeLastLine = false;
  const last = lines.length - 1;
  if (last >= 0) {
    const { start, end } = lines[last];
    const whole = buf[end - 1] === NEWLINE;
    if (parsed[last] === BAD) {
      keep = start;
      opts.log(
        `${file}:${last + 1}: dropped a torn last line (${end - start} bytes${whole ? "" : ", no newline"}): ` +
          `a write cut short by a crash`,
      );
      lines.pop();
    } else if (!whole && parsed[last] !== BLANK) {
      completeLastLine = true;
    }
  }
  let applied = 0;
  lines.forEach((_, i) => {
    const value = parsed[i];
    if (value === BLANK) return;
    if (value === BAD) throw new JournalError(file, i + 1, "not valid JSON (only the last line may be torn)");
    try {
      opts.apply(value, i + 1);
    } catch (err) {
      throw new JournalError(file, i + 1, (err as Error).message, { cause: err });
    }
    applied += 1;
  });
  if (keep < buf.length) repair(file, keep, false);
  else if (completeLastLine) {
    repair(file, buf.length, true);
    opts.log(`${file}:${lines.length}: the last line was whole but had no newline: kept, newline added`);
  }
  return { lines: applied, droppedBytes: buf.length - keep };
}

function parseLine(buf: Buffer, start: number, end: number): Parsed {
  const text = buf.toString("utf8", start, end).trim();
  if (!text) return BLANK;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return BAD;
  }
}

/** Cuts the file to `size` bytes, or adds the missing newline, and makes the change durable. */
function repair(file: string, size: number, addNewline: boolean): void {
  const fd = openSync(file, "r+");
  try {
    if (addNewline) writeSync(fd, "\n", size);
    else ftruncateSync(fd, size);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
