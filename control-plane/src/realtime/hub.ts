import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { EventSchema, Module, Stream, type MessageInitShape } from "@mevlab/proto";
import { Entry } from "./frames";
import { Ring } from "./ring";
import { HubClient } from "./client";

export { Entry, MAX_BATCH, fieldNumber } from "./frames";
export { Ring } from "./ring";
export { HubClient } from "./client";

export interface ClientTransport {
  /** Sends one frame; bytes go as a binary frame unless `text` says they are UTF-8 text (NDJSON). */
  send(data: string | Uint8Array, text?: boolean): void;
  /** Bytes accepted by send() but not yet written to the network. */
  bufferedAmount(): number;
}

type Payload = MessageInitShape<typeof EventSchema>["payload"];

export interface HubOptions {
  /** Events kept per stream for clients that resume with since_seq. */
  replayPerStream?: number;
  /** Per client: queued + unsent bytes above which its oldest opportunity events are dropped. */
  maxQueueBytes?: number;
  /** Per client: no more frames are handed to the socket while it holds this many unsent bytes. */
  socketHighWaterBytes?: number;
  /** Longest time an event waits for its batch to fill. */
  flushMs?: number;
}

/** What the hub knows about an event besides the event itself: used by filters and coalescing. */
export interface EventMeta {
  /** DEXes an opportunity touches, lower case. */
  dexes?: string[];
  /** Net profit in SOL, for min_net_sol. */
  netSol?: number;
  /** Events with the same key supersede each other while queued (status, metrics, request records). */
  coalesceKey?: string;
  /**
   * The payload exactly as it came off the bus, with its Event field number: the protobuf form of
   * the event is then assembled around these bytes instead of encoding the message again.
   */
  raw?: { field: number; bytes: Uint8Array };
  /** A request record that is not final yet (skipped for subscribers of final records only). */
  pending?: boolean;
}

export interface HubStats {
  clients: number;
  published: Map<Stream, bigint>;
  dropped: Map<Stream, bigint>;
  coalesced: bigint;
  queueBytes: number[];
  queueBytesMax: number;
}

/**
 * Fans events out to realtime clients: per-stream sequence numbers, a replay buffer for resumes,
 * filters, batches (≤ flushMs or MAX_BATCH events), and a byte-bounded queue per client so a slow
 * client loses its own oldest opportunities (announced by a Gap) and never holds up the others.
 */
export class RealtimeHub {
  /** Changes at every start: sequence numbers of another epoch mean nothing here. */
  readonly epoch = randomBytes(6).toString("hex");
  private readonly seqs = new Map<Stream, bigint>();
  private readonly rings = new Map<Stream, Ring>();
  private readonly clients = new Set<HubClient>();
  readonly dropped = new Map<Stream, bigint>();
  coalesced = 0n;
  readonly options: Required<HubOptions>;

  constructor(options: HubOptions = {}) {
    this.options = {
      replayPerStream: options.replayPerStream ?? 10_000,
      maxQueueBytes: options.maxQueueBytes ?? 4 * 1024 * 1024,
      socketHighWaterBytes: options.socketHighWaterBytes ?? 1024 * 1024,
      flushMs: options.flushMs ?? 20,
    };
  }

  attach(transport: ClientTransport, hello: { user: string; role: string; expiresAt: number }): HubClient {
    const client = new HubClient(this, transport, hello);
    this.clients.add(client);
    return client;
  }

  detach(client: HubClient): void {
    client.close();
    this.clients.delete(client);
  }

  publish(stream: Stream, module: Module, payload: Payload, meta: EventMeta = {}): void {
    const seq = (this.seqs.get(stream) ?? 0n) + 1n;
    this.seqs.set(stream, seq);
    const entry = new Entry(create(EventSchema, { stream, seq, payload }), module, meta);
    this.ring(stream).push(entry);
    for (const c of this.clients) c.offer(entry);
    entry.settle();
  }

  lastSeq(stream: Stream): bigint {
    return this.seqs.get(stream) ?? 0n;
  }

  ring(stream: Stream): Ring {
    let r = this.rings.get(stream);
    if (!r) this.rings.set(stream, (r = new Ring(this.options.replayPerStream)));
    return r;
  }

  countDrop(stream: Stream, n: bigint): void {
    this.dropped.set(stream, (this.dropped.get(stream) ?? 0n) + n);
  }

  stats(): HubStats {
    const queueBytes = [...this.clients].map((c) => c.queueBytes());
    return {
      clients: this.clients.size,
      published: new Map(this.seqs),
      dropped: new Map(this.dropped),
      coalesced: this.coalesced,
      queueBytes,
      queueBytesMax: Math.max(0, ...[...this.clients].map((c) => c.queueBytesMax)),
    };
  }
}
