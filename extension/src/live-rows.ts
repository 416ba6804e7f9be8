import type { ArbOpportunity, MevOpportunity } from "@mevlab/proto";
import { ByteColumn, Interned, formatTime } from "./live-bytes";

export type LiveModule = "arbitrage" | "mev";

const MEV = 1;
const ACCEPTED = 2;
const HAS_OUTCOME = 4;
const LANDED = 8;

/** Bytes kept per id (20–40 ASCII characters seen) and per signature or public key (base58, ≤ 88). */
const ID_BYTES = 64;
const SIG_BYTES = 88;

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
  /** Arbitrage: the route's DEXes in order; MEV: the pool. */
  private route!: string[];
  /** The DEXes touched, as the DEX filter reads them. */
  private dex!: string[];
  private ladder!: string[];
  private agent!: string[];
  private id!: ByteColumn;
  /** Arbitrage: the transaction's signature; MEV: the attacker. */
  private sig!: ByteColumn;
  private readonly strings = new Interned();
  /** Route text -> the distinct DEXes on it. */
  private readonly routeDexes = new Map<string, string>();
  private lastLadder: readonly number[] = [];
  private lastLadderText = "";
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
    if ("route" in opp) {
      const route = this.strings.get(opp.route.map((h) => h.dex).join(" → "));
      this.route[i] = route;
      this.dex[i] = this.dexesOf(route, opp);
      this.sig.set(i, opp.txSignature);
    } else {
      this.route[i] = this.strings.get(opp.pool);
      this.dex[i] = this.strings.get(opp.dex);
      this.sig.set(i, opp.attacker);
    }
    this.ladder[i] = this.ladderText(meta?.tipPolicy?.ladder ?? []);
    this.agent[i] = this.strings.get(opp.agentId);
    this.id.set(i, opp.id);
    this.next = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.pushed++;
  }

  /** Forgets every row (new filters: what was shown no longer matches). Serial numbers go on. */
  clear(): void {
    this.size = 0;
  }

  /** Keeps the newest `capacity` rows (a settings change, not a hot path); false when it was that size. */
  resize(capacity: number): boolean {
    if (capacity === this.capacity) return false;
    const kept = Math.min(this.size, capacity);
    // Physical indexes of the rows kept, oldest first: they land at 0 .. kept - 1.
    const from = Array.from({ length: kept }, (_, k) => this.indexOf(kept - 1 - k));
    const old = this.columns();
    const [oldId, oldSig] = [this.id, this.sig];
    this.allocate(capacity);
    const now = this.columns();
    for (const name of Object.keys(now)) from.forEach((src, dst) => (now[name][dst] = old[name][src]));
    from.forEach((src, dst) => {
      this.id.copy(oldId, src, dst);
      this.sig.copy(oldSig, src, dst);
    });
    this.size = kept;
    this.next = kept % capacity;
    return true;
  }

  /** The physical index of a serial number, or -1 once that row has been overwritten (or not pushed yet). */
  indexOfSerial(serial: number): number {
    const row = this.pushed - 1 - serial;
    return row >= 0 && row < this.size ? this.indexOf(row) : -1;
  }

  tsAt(i: number): number {
    return this.ts[i];
  }

  netSolAt(i: number): number {
    return this.netSol[i];
  }

  /** The DEXes of the row, comma-separated (interned: few distinct values). */
  dexAt(i: number): string {
    return this.dex[i];
  }

  /** The cell texts of the row at physical index `i`, by column. */
  readonly text = {
    time: (i: number) => formatTime(this.ts[i]),
    module: (i: number): LiveModule => (this.flags[i] & MEV ? "mev" : "arbitrage"),
    slot: (i: number) => String(this.slot[i]),
    sig: (i: number) => this.sig.get(i),
    route: (i: number) => this.route[i],
    dex: (i: number) => this.dex[i],
    netSol: (i: number) => this.netSol[i].toFixed(6),
    netLamports: (i: number) => this.netLamports[i].toString(),
    pLand: (i: number) => this.pLand[i].toFixed(2),
    ladder: (i: number) => this.ladder[i],
    tipLamports: (i: number) => this.tipLamports[i].toString(),
    accepted: (i: number) => (this.flags[i] & ACCEPTED ? "yes" : "no"),
    landed: (i: number) => (this.flags[i] & HAS_OUTCOME ? (this.flags[i] & LANDED ? "landed" : "missed") : ""),
    agent: (i: number) => this.agent[i],
    id: (i: number) => this.id.get(i),
  };

  private indexOf(row: number): number {
    const i = this.next - 1 - row;
    return i < 0 ? i + this.capacity : i;
  }

  private dexesOf(route: string, opp: ArbOpportunity): string {
    let dexes = this.routeDexes.get(route);
    if (dexes === undefined) {
      if (this.routeDexes.size >= 4096) this.routeDexes.clear();
      dexes = [...new Set(opp.route.map((h) => h.dex))].join(", ");
      this.routeDexes.set(route, dexes);
    }
    return dexes;
  }

  /** The ladder as text; the agents send the same ladder for long runs, so the last one is kept. */
  private ladderText(ladder: readonly number[]): string {
    const last = this.lastLadder;
    if (ladder.length === last.length && ladder.every((v, k) => v === last[k])) return this.lastLadderText;
    this.lastLadder = ladder.slice();
    this.lastLadderText = this.strings.get(ladder.map((v) => String(v)).join(" / "));
    return this.lastLadderText;
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
    this.dex = new Array<string>(capacity).fill("");
    this.ladder = new Array<string>(capacity).fill("");
    this.agent = new Array<string>(capacity).fill("");
    this.id = new ByteColumn(capacity, ID_BYTES);
    this.sig = new ByteColumn(capacity, SIG_BYTES);
  }

  private columns(): Record<string, { [i: number]: unknown }> {
    const { ts, slot, netSol, pLand, netLamports, tipLamports, flags, route, dex, ladder, agent } = this;
    return { ts, slot, netSol, pLand, netLamports, tipLamports, flags, route, dex, ladder, agent };
  }
}
