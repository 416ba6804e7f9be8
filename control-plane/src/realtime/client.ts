import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { MAX_JSON_DEPTH, jsonDepthExceeds } from "../http/json";
import {
  ClientFrameSchema,
  Format,
  GapSchema,
  Module,
  ServerFrameSchema,
  Stream,
  fromWireJson,
  toWireJson,
  type MessageInitShape,
  type Subscribe,
} from "@mevlab/proto";
import type { ClientTransport, RealtimeHub } from "./hub";
import {
  BATCH_CLOSE,
  BATCH_OPEN,
  COMMA,
  DROPPABLE,
  Entry,
  MAX_BATCH,
  TAG,
  URGENT,
  varintSize,
  writeVarint,
} from "./frames";

export interface Lost {
  from: bigint;
  to: bigint;
  count: bigint;
  reason: string;
}

export class HubClient {
  private streams?: Set<Stream>;
  private modules?: Set<Module>;
  private dexes?: Set<string>;
  private minNetSol?: number;
  private finalRequests = false;
  private format = Format.ndjson;
  private subscribed = false;
  private closed = false;
  /** Queued entries; undefined marks one dropped or superseded in place. */
  private queue: (Entry | undefined)[] = [];
  private head = 0;
  /** Where the search for the oldest droppable event starts: everything before it is sent, gone or kept. */
  private dropFrom = 0;
  private queued = 0;
  private queuedBytes = 0;
  private readonly positions = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private readonly lost = new Map<Stream, Lost>();
  /** Largest queued + unsent bytes this client has had. */
  queueBytesMax = 0;

  constructor(
    private readonly hub: RealtimeHub,
    private readonly transport: ClientTransport,
    private readonly hello: { user: string; role: string; expiresAt: number },
  ) {}

  /** Handles a client frame; a bad one gets an Error frame, never an exception. */
  handleMessage(data: string | Uint8Array): void {
    if (typeof data === "string" && jsonDepthExceeds(data, MAX_JSON_DEPTH)) {
      this.sendError("bad_frame", `client frame nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    let frame;
    try {
      frame =
        typeof data === "string"
          ? fromWireJson(ClientFrameSchema, JSON.parse(data))
          : fromBinary(ClientFrameSchema, data);
    } catch (err) {
      this.sendError("bad_frame", `cannot parse client frame: ${(err as Error).message}`);
      return;
    }
    if (frame.frame.case !== "subscribe") {
      this.sendError("bad_frame", "expected a subscribe frame");
      return;
    }
    const problem = this.subscribe(frame.frame.value);
    if (problem) this.sendError("bad_subscribe", problem);
  }

  queueBytes(): number {
    return this.queuedBytes + this.transport.bufferedAmount();
  }

  /** Events waiting in this client's queue. */
  get queuedEvents(): number {
    return this.queued;
  }

  /** Slots the queue holds, waiting events and holes left by dropped ones (bounded by compaction). */
  get queueSlots(): number {
    return this.queue.length - this.head;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.queue = [];
  }

  private subscribe(sub: Subscribe): string | undefined {
    if (sub.minNetSol !== undefined && !Number.isFinite(sub.minNetSol)) return "min_net_sol must be a finite number";
    for (const name of Object.keys(sub.sinceSeq)) {
      if (!(name in Stream) || Stream[name as keyof typeof Stream] === Stream.STREAM_UNSPECIFIED) {
        return `since_seq: unknown stream '${name}'`;
      }
    }
    this.streams = sub.streams.length ? new Set(sub.streams) : undefined;
    this.modules = sub.modules.length ? new Set(sub.modules) : undefined;
    this.dexes = sub.dexes.length ? new Set(sub.dexes.map((d) => d.toLowerCase())) : undefined;
    this.minNetSol = sub.minNetSol;
    this.finalRequests = sub.finalRequests;
    this.format = sub.format === Format.protobuf ? Format.protobuf : Format.ndjson;
    // A new subscription starts a new queue: what was queued under the old filters goes.
    this.queue = [];
    this.head = 0;
    this.dropFrom = 0;
    this.queued = 0;
    this.queuedBytes = 0;
    this.positions.clear();
    this.lost.clear();
    const lastSeq: Record<string, bigint> = {};
    for (const s of this.allStreams()) lastSeq[Stream[s]] = this.hub.lastSeq(s);
    // The hello confirms the subscription: events published from now on reach this client.
    this.sendFrame({
      case: "hello",
      value: {
        serverVersion: "0.1.0",
        user: this.hello.user,
        role: this.hello.role,
        expiresAt: BigInt(this.hello.expiresAt),
        epoch: this.hub.epoch,
        lastSeq,
      },
    });
    this.subscribed = true;
    const restarted = sub.epoch !== "" && sub.epoch !== this.hub.epoch;
    for (const [name, since] of Object.entries(sub.sinceSeq)) {
      const stream = Stream[name as keyof typeof Stream];
      if (this.streams && !this.streams.has(stream)) continue;
      this.replay(stream, restarted ? 0n : since, restarted ? sub.epoch : undefined);
    }
    this.flush();
    return undefined;
  }

  private allStreams(): Stream[] {
    return Object.values(Stream).filter((v): v is Stream => typeof v === "number" && v !== Stream.STREAM_UNSPECIFIED);
  }

  /** Queues what the client missed after `since`, and a Gap for what the buffer no longer has. */
  private replay(stream: Stream, since: bigint, oldEpoch?: string): void {
    const last = this.hub.lastSeq(stream);
    if (oldEpoch !== undefined) {
      this.sendGap({
        stream,
        fromSeq: 0n,
        toSeq: 0n,
        lost: 0n,
        reason: `the control plane restarted (epoch ${oldEpoch} → ${this.hub.epoch}): events published while it was down are not counted; replaying this epoch from seq 1`,
      });
    } else if (since > last) {
      this.sendGap({
        stream,
        fromSeq: last + 1n,
        toSeq: since,
        lost: 0n,
        reason: `since_seq ${since} is ahead of the stream (last seq ${last}): nothing to replay`,
      });
      return;
    }
    const oldest = this.hub.ring(stream).oldestSeq() ?? last + 1n;
    if (oldest > since + 1n) {
      this.sendGap({
        stream,
        fromSeq: since + 1n,
        toSeq: oldest - 1n,
        lost: oldest - 1n - since,
        reason: "no longer in the replay buffer",
      });
    }
    for (const e of this.hub.ring(stream).after(since)) this.offer(e);
  }

  private matches(entry: Entry): boolean {
    const stream = entry.stream;
    if (this.streams && !this.streams.has(stream)) return false;
    if (this.modules && entry.module !== Module.MODULE_UNSPECIFIED && !this.modules.has(entry.module)) return false;
    if (this.finalRequests && entry.meta.pending) return false;
    if (this.dexes && entry.meta.dexes && !entry.meta.dexes.some((d) => this.dexes!.has(d))) return false;
    if (this.minNetSol !== undefined && entry.meta.netSol !== undefined && entry.meta.netSol < this.minNetSol) {
      return false;
    }
    return true;
  }

  offer(entry: Entry): void {
    if (!this.subscribed || this.closed || !this.matches(entry)) return;
    const key = entry.meta.coalesceKey;
    if (key !== undefined) {
      const at = this.positions.get(key);
      if (at !== undefined) {
        // Superseded before it was sent: the client gets the latest, and a Gap saying so.
        const old = this.queue[at]!;
        this.removeAt(at);
        this.noteLost(old.stream, old.seq, "superseded by a later event of the same key while queued");
        this.hub.coalesced += 1n;
      }
      this.positions.set(key, this.queue.length);
    }
    this.queue.push(entry);
    this.queued += 1;
    this.queuedBytes += entry.size(this.format);
    // A full batch goes to the socket now: a burst then waits in the kernel for a client that reads,
    // and only a client that does not read fills its queue.
    if (this.queued >= MAX_BATCH) this.flush();
    this.enforceCap();
    this.queueBytesMax = Math.max(this.queueBytesMax, this.queueBytes());
    if (this.queued === 0) return;
    if (entry.stream === Stream.control_request && !entry.meta.pending) {
      // A final request record ends a command: it goes out now, with whatever is queued before it,
      // ahead of the bookkeeping that follows it (journal, event sink).
      this.flush();
    } else if (URGENT.has(entry.stream)) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.hub.options.flushMs);
    }
  }

  private removeAt(i: number): void {
    const e = this.queue[i];
    if (!e) return;
    this.queue[i] = undefined;
    this.queued -= 1;
    this.queuedBytes -= e.size(this.format);
    if (e.meta.coalesceKey !== undefined && this.positions.get(e.meta.coalesceKey) === i) {
      this.positions.delete(e.meta.coalesceKey);
    }
  }

  /** Over the cap, the oldest droppable events go first; acks, status and metrics stay. */
  private enforceCap(): void {
    const cap = this.hub.options.maxQueueBytes;
    if (this.queueBytes() <= cap) return;
    // Drops go oldest first, so the search resumes where the last one stopped: a client that never
    // reads costs O(1) per event, not a walk over every slot dropped before.
    let i = Math.max(this.head, this.dropFrom);
    for (; i < this.queue.length && this.queueBytes() > cap; i++) {
      const e = this.queue[i];
      if (!e || !DROPPABLE.has(e.stream)) continue;
      this.removeAt(i);
      this.noteLost(e.stream, e.seq, "client too slow: its queue was full");
      this.hub.countDrop(e.stream, 1n);
    }
    this.dropFrom = i;
    // The slots of dropped events are holes; once they are most of the array, close them up.
    if (this.dropFrom - this.head > 4096 && (this.dropFrom - this.head) * 2 > this.queue.length - this.head) {
      this.compact();
    }
  }

  private noteLost(stream: Stream, seq: bigint, reason: string): void {
    const gap = this.lost.get(stream);
    if (gap && gap.reason === reason) {
      if (seq < gap.from) gap.from = seq;
      if (seq > gap.to) gap.to = seq;
      gap.count += 1n;
    } else {
      if (gap) this.flushGaps();
      this.lost.set(stream, { from: seq, to: seq, count: 1n, reason });
    }
  }

  private flushGaps(): void {
    for (const [stream, g] of this.lost) {
      this.sendGap({ stream, fromSeq: g.from, toSeq: g.to, lost: g.count, reason: g.reason });
    }
    this.lost.clear();
  }

  private flush(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushGaps();
    const highWater = this.hub.options.socketHighWaterBytes;
    while (this.queued > 0 && this.transport.bufferedAmount() < highWater) {
      const batch: Entry[] = [];
      while (batch.length < MAX_BATCH && this.head < this.queue.length) {
        const i = this.head++;
        const e = this.queue[i];
        if (!e) continue;
        this.removeAt(i);
        batch.push(e);
      }
      this.sendBatch(batch);
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.dropFrom = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) this.compact();
    // The socket is backed up: look again shortly instead of waiting for more events.
    if (this.queued > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.hub.options.flushMs);
    }
  }

  private compact(): void {
    const rest: Entry[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e) rest.push(e);
    }
    this.queue = rest;
    this.head = 0;
    this.dropFrom = 0;
    this.positions.clear();
    rest.forEach((e, i) => {
      if (e?.meta.coalesceKey !== undefined) this.positions.set(e.meta.coalesceKey, i);
    });
  }

  /** A Batch frame assembled from each event's cached encoding (the same bytes toBinary would give). */
  private sendBatch(batch: Entry[]): void {
    if (batch.length === 0) return;
    if (this.format === Format.protobuf) {
      const parts = batch.map((e) => e.binary());
      const eventTagSize = varintSize(TAG.batchEvents);
      let batchLen = 0;
      for (const p of parts) batchLen += eventTagSize + varintSize(p.length) + p.length;
      const out = new Uint8Array(
        varintSize(TAG.frameSchemaVersion) + 1 + varintSize(TAG.frameBatch) + varintSize(batchLen) + batchLen,
      );
      let o = writeVarint(out, 0, TAG.frameSchemaVersion);
      out[o++] = 0x01; // schema_version = 1
      o = writeVarint(out, o, TAG.frameBatch);
      o = writeVarint(out, o, batchLen);
      for (const p of parts) {
        o = writeVarint(out, o, TAG.batchEvents);
        o = writeVarint(out, o, p.length);
        out.set(p, o);
        o += p.length;
      }
      this.transport.send(out);
    } else {
      const parts: Buffer[] = [BATCH_OPEN];
      for (let i = 0; i < batch.length; i++) {
        if (i) parts.push(COMMA);
        parts.push(batch[i].text());
      }
      parts.push(BATCH_CLOSE);
      this.transport.send(Buffer.concat(parts), true);
    }
  }

  private sendGap(gap: MessageInitShape<typeof GapSchema>): void {
    this.sendFrame({ case: "gap", value: gap });
  }

  private sendError(code: string, message: string): void {
    this.sendFrame({ case: "error", value: { code, message } });
  }

  private sendFrame(frame: MessageInitShape<typeof ServerFrameSchema>["frame"]): void {
    if (this.closed) return;
    const msg = create(ServerFrameSchema, { schemaVersion: 1, frame });
    if (this.format === Format.protobuf) this.transport.send(toBinary(ServerFrameSchema, msg));
    else this.transport.send(JSON.stringify(toWireJson(ServerFrameSchema, msg)) + "\n");
  }
}
