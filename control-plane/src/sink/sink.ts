import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { open, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { EventStore, SegmentRows } from "./stores";
import { rowJson, type TableSpec } from "./tables";

export interface EventSinkOptions {
  store: EventStore;
  /** Spool directory: every batch is on disk here until the store has it. */
  spoolDir: string;
  /** A batch is sealed and written at least this often. */
  flushMs?: number;
  /** ...or as soon as it holds this many rows. */
  maxRows?: number;
  /** Beyond this many spooled bytes new batches are refused (and counted) rather than fill the disk. */
  maxSpoolBytes?: number;
  onRowsWritten?: (rows: number) => void;
  log?: (line: string) => void;
}

interface Segment {
  id: string;
  file: string;
  bytes: number;
  rows: number;
  /** Loaded lazily: only the head of the queue is held in memory. */
  groups?: SegmentRows[];
  done: Set<string>;
  /** Resolves once the segment file is durable. */
  spooled?: Promise<void>;
}

const IN_MEMORY_SEGMENTS = 4;
const CHUNK_BYTES = 256 * 1024;

/** A group's rows while its batch is open: JSON lines copied into off-heap chunks as they arrive. */
class RowBuffer {
  private readonly chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafeSlow(0);
  private used = 0;
  rows = 0;

  constructor(
    readonly table: string,
    readonly date: string,
    readonly hour: string,
  ) {}

  append(line: string): void {
    const need = Buffer.byteLength(line) + 1;
    if (this.used + need > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, need));
      this.used = 0;
    }
    this.used += this.chunk.write(line, this.used);
    this.chunk[this.used++] = 0x0a;
    this.rows += 1;
  }

  seal(): SegmentRows {
    const parts = this.used > 0 ? [...this.chunks, this.chunk.subarray(0, this.used)] : this.chunks;
    return { table: this.table, date: this.date, hour: this.hour, rows: this.rows, ndjson: Buffer.concat(parts) };
  }
}
const MAX_BACKOFF_MS = 10_000;

const pad = (n: number): string => String(n).padStart(2, "0");

/**
 * Batched writes of bus events to the event store. Each batch becomes a spool segment on disk (written
 * and renamed before the store is tried), then goes to the store group by group; a failed group is
 * retried with backoff while later batches queue up on disk, so an outage of the store loses nothing.
 * Segments left by a previous run are drained at start.
 */
export class EventSink {
  private current = new Map<string, RowBuffer>();
  private currentRows = 0;
  private readonly queue: Segment[] = [];
  private timer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private opened = false;
  private closed = false;
  private seq = 0;
  private backoffMs = 250;
  failures = 0n;
  refusedRows = 0n;
  lastError = "";

  constructor(private readonly opts: EventSinkOptions) {}

  get kind(): string {
    return this.opts.store.kind;
  }

  async start(): Promise<void> {
    mkdirSync(this.opts.spoolDir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.opts.spoolDir).sort()) {
      const file = join(this.opts.spoolDir, name);
      if (name.endsWith(".seg.tmp")) rmSync(file, { force: true });
      else if (name.endsWith(".seg")) {
        this.queue.push({ id: name.slice(0, -4), file, bytes: statSync(file).size, rows: 0, done: new Set() });
      }
    }
    if (this.queue.length) this.log(`draining ${this.queue.length} spooled segments from an earlier run`);
    this.timer = setInterval(() => this.seal(), this.opts.flushMs ?? 1_000);
    this.kick();
  }

  add<M>(spec: TableSpec<M>, message: M): void {
    if (this.closed) return;
    const row = spec.row(message);
    const d = new Date(Number(row.ts_ms));
    const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const hour = pad(d.getUTCHours());
    const key = `${spec.name}\t${date}\t${hour}`;
    let g = this.current.get(key);
    if (!g) this.current.set(key, (g = new RowBuffer(spec.name, date, hour)));
    g.append(rowJson(spec as TableSpec<never>, row));
    this.currentRows += 1;
    if (this.currentRows >= (this.opts.maxRows ?? 20_000)) this.seal();
  }

  stats(): { kind: string; spoolBytes: number; spoolSegments: number; failures: bigint; lastError: string } {
    return {
      kind: this.kind,
      spoolBytes: this.queue.reduce((n, s) => n + s.bytes, 0),
      spoolSegments: this.queue.length,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  /** Resolves when everything received so far is in the store (for tests and shutdown). */
  async flushed(timeoutMs = 30_000): Promise<boolean> {
    this.seal();
    const until = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < until) {
      this.kick();
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.queue.length === 0;
  }

  async close(timeoutMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    await this.flushed(timeoutMs);
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.draining;
    if (this.queue.length) this.log(`${this.queue.length} segments stay spooled for the next start`);
    await this.opts.store.close();
  }

  /** Turns the rows received so far into a segment on disk and queues it for the store. */
  private seal(): void {
    if (this.currentRows === 0) return;
    const groups = [...this.current.values()].map((g) => g.seal());
    const rows = this.currentRows;
    this.current = new Map();
    this.currentRows = 0;
    const spooled = this.queue.reduce((n, s) => n + s.bytes, 0);
    if (spooled > (this.opts.maxSpoolBytes ?? 1024 ** 3)) {
      this.refusedRows += BigInt(rows);
      this.log(`spool is full (${spooled} bytes): ${rows} rows refused; the store has been failing: ${this.lastError}`);
      return;
    }
    const id = `${Date.now()}-${String(this.seq++).padStart(6, "0")}`;
    const file = join(this.opts.spoolDir, `${id}.seg`);
    const parts = groups.flatMap((g, i) => [
      Buffer.from(`${i ? "\f\n" : ""}${g.table}\t${g.date}\t${g.hour}\n`),
      g.ndjson,
    ]);
    const bytes = parts.reduce((n, p) => n + p.length, 0);
    const seg: Segment = { id, file, bytes, rows, groups, done: new Set() };
    // On disk (written, synced, renamed) before the store is tried; off the event loop, so a large
    // batch does not hold up the live streams.
    seg.spooled = writeDurably(file, parts);
    this.queue.push(seg);
    // Only the head of the queue stays in memory; the rest is read back from disk when its turn comes.
    for (let i = IN_MEMORY_SEGMENTS; i < this.queue.length; i++) this.queue[i].groups = undefined;
    this.kick();
  }

  private kick(): void {
    if (this.draining || this.retryTimer || this.closed) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      const seg = this.queue[0];
      try {
        await seg.spooled;
        if (!this.opened) {
          await this.opts.store.open();
          this.opened = true;
        }
        seg.groups ??= readSegment(seg.file);
        for (const g of seg.groups) {
          const key = `${g.table}\t${g.date}\t${g.hour}`;
          if (seg.done.has(key)) continue;
          await this.opts.store.write(seg.id, g);
          seg.done.add(key);
          this.opts.onRowsWritten?.(g.rows);
        }
      } catch (err) {
        this.failures += 1n;
        const msg = (err as Error).message;
        if (msg !== this.lastError) this.log(`store ${this.kind} failed, retrying (spool keeps the rows): ${msg}`);
        this.lastError = msg;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
        return;
      }
      this.backoffMs = 250;
      if (this.lastError) {
        this.log(`store ${this.kind} is back`);
        this.lastError = "";
      }
      rmSync(seg.file, { force: true });
      this.queue.shift();
    }
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(`sink: ${l}\n`)))(line);
  }
}

/** Writes the parts in turn (no copy into one buffer), syncs, then renames into place. */
async function writeDurably(file: string, parts: readonly Buffer[]): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, "w", 0o600);
  try {
    await writeFile(fh, parts);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/**
 * A spool segment: groups separated by "\f\n", each a `table\tdate\thour` line and its JSON lines
 * (JSON escapes control characters, so neither \f nor a bare newline occurs inside a row).
 */
function readSegment(file: string): SegmentRows[] {
  const bytes = readFileSync(file);
  const groups: SegmentRows[] = [];
  for (let start = 0; start < bytes.length;) {
    const sep = bytes.indexOf("\f\n", start);
    const end = sep < 0 ? bytes.length : sep;
    const headerEnd = bytes.indexOf(0x0a, start);
    if (headerEnd > start && headerEnd < end) {
      const [table, date, hour] = bytes.toString("utf8", start, headerEnd).split("\t");
      const ndjson = bytes.subarray(headerEnd + 1, end);
      let rows = 0;
      for (let i = ndjson.indexOf(0x0a); i >= 0; i = ndjson.indexOf(0x0a, i + 1)) rows += 1;
      if (rows > 0) groups.push({ table, date, hour, rows, ndjson });
    }
    start = end + 2;
  }
  return groups;
}
