import type { ArbOpportunity, MevOpportunity } from "@mevlab/proto";

export type LiveModule = "arbitrage" | "mev";

const MEV = 1;
const ACCEPTED = 2;
const HAS_OUTCOME = 4;
const LANDED = 8;

/** Distinct route strings are few: one copy each instead of one per row. */
const ROUTES_MAX = 4096;

/**
 * The newest `capacity` opportunities, kept as the columns the live table shows and overwritten in
 * place: a push is O(1), nothing is copied per batch, and no message object outlives its batch (a
 * decoded opportunity is a tree of a dozen objects; 100,000 of them would be most of the heap).
 * Row 0 is the newest. Every pushed row has a serial number, its rank in the stream.
 */
export class OpportunityRing {
  private ts!: Float64Array;
  private slot!: Float64Array;
  private netSol!: Float64Array;
  private pLand!: Float64Array;
  private netLamports!: BigInt64Array;
  private tipLamports!: BigUint64Array;
  private flags!: Uint8Array;
  private route!: string[];
  private id!: IdColumn;
  private readonly routes = new Map<string, string>();
  /** Physical index of the next write. */
  private next = 0;
  size = 0;
  /** Rows pushed so far: the newest row's serial is `pushed - 1`. */
  pushed = 0;

  constructor(private capacity: number) {
    this.allocate(capacity);
  }

  push(module: LiveModule, opp: ArbOpportunity | MevOpportunity): void {
    const i = this.next;
    const meta = opp.decisionMeta;
    this.ts[i] = Number(opp.ts);
    this.slot[i] = Number(opp.slot);
    this.netSol[i] = opp.profit?.netSol ?? 0;
    this.netLamports[i] = opp.profit?.netLamports ?? 0n;
    this.pLand[i] = meta?.pLandEst ?? 0;
    this.tipLamports[i] = meta?.tipPolicy?.tipLamports ?? 0n;
    this.flags[i] =
      (module === "mev" ? MEV : 0) |
      (meta?.accepted ? ACCEPTED : 0) |
      (opp.outcome ? HAS_OUTCOME : 0) |
      (opp.outcome?.landed ? LANDED : 0);
    this.route[i] = this.intern("route" in opp ? opp.route.map((h) => h.dex).join(" → ") : opp.dex);
    this.id.set(i, opp.id);
    this.next = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.pushed++;
  }

  /** Keeps the newest `capacity` rows (a settings change, not a hot path). */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const kept = Math.min(this.size, capacity);
    // Physical indexes of the rows kept, oldest first: they land at 0 .. kept - 1.
    const from = Array.from({ length: kept }, (_, k) => this.indexOf(kept - 1 - k));
    const old = this.columns();
    const oldIds = this.id;
    this.allocate(capacity);
    const now = this.columns();
    for (const name of Object.keys(now)) from.forEach((src, dst) => (now[name][dst] = old[name][src]));
    from.forEach((src, dst) => this.id.copy(oldIds, src, dst));
    this.size = kept;
    this.next = kept % capacity;
  }

  /** The physical index of a serial number, or -1 once that row has been overwritten (or not pushed yet). */
  indexOfSerial(serial: number): number {
    const row = this.pushed - 1 - serial;
    return row >= 0 && row < this.size ? this.indexOf(row) : -1;
  }

  tsAt(i: number): number {
    return this.ts[i];
  }

  /** The cell texts of the row at physical index `i`, by column. */
  readonly text = {
    time: (i: number) => formatTime(this.ts[i]),
    module: (i: number): LiveModule => (this.flags[i] & MEV ? "mev" : "arbitrage"),
    slot: (i: number) => String(this.slot[i]),
    route: (i: number) => this.route[i],
    netSol: (i: number) => this.netSol[i].toFixed(6),
    netLamports: (i: number) => this.netLamports[i].toString(),
    pLand: (i: number) => this.pLand[i].toFixed(2),
    tipLamports: (i: number) => this.tipLamports[i].toString(),
    accepted: (i: number) => (this.flags[i] & ACCEPTED ? "yes" : "no"),
    landed: (i: number) => (this.flags[i] & HAS_OUTCOME ? (this.flags[i] & LANDED ? "landed" : "missed") : ""),
    id: (i: number) => this.id.get(i),
  };

  private indexOf(row: number): number {
    const i = this.next - 1 - row;
    return i < 0 ? i + this.capacity : i;
  }

  private intern(route: string): string {
    const known = this.routes.get(route);
    if (known !== undefined) return known;
    if (this.routes.size >= ROUTES_MAX) this.routes.clear();
    this.routes.set(route, route);
    return route;
  }

  private allocate(capacity: number): void {
    this.capacity = capacity;
    this.ts = new Float64Array(capacity);
    this.slot = new Float64Array(capacity);
    this.netSol = new Float64Array(capacity);
    this.pLand = new Float64Array(capacity);
    this.netLamports = new BigInt64Array(capacity);
    this.tipLamports = new BigUint64Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.route = new Array<string>(capacity).fill("");
    this.id = new IdColumn(capacity);
  }

  private columns(): Record<string, { [i: number]: unknown }> {
    const { ts, slot, netSol, pLand, netLamports, tipLamports, flags, route } = this;
    return { ts, slot, netSol, pLand, netLamports, tipLamports, flags, route };
  }
}

/** Bytes kept per id: the ids seen are 20–40 ASCII characters; a longer one is kept as a string. */
const ID_BYTES = 64;
const LONG_ID = 255;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Ids as UTF-8 bytes in one buffer rather than one string each: a string the browser's TextDecoder
 * made (protobuf-es decodes with it) is an external string with a weak handle, and 100,000 of them
 * alive made major GCs of 50–140 ms (long tasks) at 5,000 events/s.
 */
class IdColumn {
  private readonly bytes: Uint8Array;
  private readonly lengths: Uint8Array;
  private readonly long = new Map<number, string>();

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity * ID_BYTES);
    this.lengths = new Uint8Array(capacity);
  }

  set(i: number, id: string): void {
    if (this.long.size > 0) this.long.delete(i);
    const { read = 0, written = 0 } = utf8.encodeInto(id, this.bytes.subarray(i * ID_BYTES, (i + 1) * ID_BYTES));
    this.lengths[i] = read === id.length ? written : LONG_ID;
    if (read !== id.length) this.long.set(i, id);
  }

  get(i: number): string {
    const n = this.lengths[i];
    return n === LONG_ID
      ? (this.long.get(i) ?? "")
      : fromUtf8.decode(this.bytes.subarray(i * ID_BYTES, i * ID_BYTES + n));
  }

  copy(from: IdColumn, src: number, dst: number): void {
    this.bytes.set(from.bytes.subarray(src * ID_BYTES, (src + 1) * ID_BYTES), dst * ID_BYTES);
    this.lengths[dst] = from.lengths[src];
    const long = from.long.get(src);
    if (long !== undefined) this.long.set(dst, long);
  }
}

/** The wall-clock time as `toLocaleTimeString()` writes it, with one formatter and the last second remembered. */
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "numeric", second: "numeric" });
let lastSecond = NaN;
let lastTime = "";

function formatTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastTime = timeFormat.format(ms);
  }
  return lastTime;
}
