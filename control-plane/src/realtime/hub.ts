import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  EventSchema,
  Format,
  Module,
  ServerFrameSchema,
  Stream,
  fromWireJson,
  toWireJson,
  type Event,
  type MessageInitShape,
} from "@mevlab/proto";

export interface ClientTransport {
  send(data: string | Uint8Array): void;
  /** Bytes accepted by send() but not yet written to the network. */
  bufferedAmount(): number;
}

type Payload = MessageInitShape<typeof EventSchema>["payload"];

/** Above this many unsent bytes a client gets no more opportunity events until it catches up. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const MAX_BATCH = 512;
const DROPPABLE = new Set<Stream>([Stream.arb_opportunity, Stream.mev_opportunity, Stream.bundle_outcome]);

/** Fans events out to realtime clients: per-stream sequence numbers, batching, back-pressure. */
export class RealtimeHub {
  private readonly seqs = new Map<Stream, bigint>();
  private readonly clients = new Set<HubClient>();

  attach(transport: ClientTransport, hello: { user: string; role: string; expiresAt: number }): HubClient {
    const client = new HubClient(transport, hello);
    this.clients.add(client);
    return client;
  }

  detach(client: HubClient): void {
    this.clients.delete(client);
  }

  publish(stream: Stream, module: Module, payload: Payload): void {
    const seq = (this.seqs.get(stream) ?? 0n) + 1n;
    this.seqs.set(stream, seq);
    const event = create(EventSchema, { stream, seq, payload });
    for (const c of this.clients) c.offer(event, module);
  }
}

export class HubClient {
  private streams?: Set<Stream>;
  private modules?: Set<Module>;
  private format = Format.ndjson;
  private subscribed = false;
  private queue: Event[] = [];
  private scheduled = false;
  private readonly lost = new Map<Stream, { from: bigint; to: bigint; count: bigint }>();

  constructor(
    private readonly transport: ClientTransport,
    private readonly hello: { user: string; role: string; expiresAt: number },
  ) {}

  /** Handles a client frame; a bad one gets an Error frame, never an exception. */
  handleMessage(data: string | Uint8Array): void {
    let frame;
    try {
      frame =
        typeof data === "string"
          ? fromWireJson(ClientFrameSchema, JSON.parse(data))
          : fromBinary(ClientFrameSchema, data);
    } catch (err) {
      this.sendFrame({
        case: "error",
        value: { code: "bad_frame", message: `cannot parse client frame: ${(err as Error).message}` },
      });
      return;
    }
    if (frame.frame.case !== "subscribe") {
      this.sendFrame({ case: "error", value: { code: "bad_frame", message: "expected a subscribe frame" } });
      return;
    }
    const sub = frame.frame.value;
    this.streams = sub.streams.length ? new Set(sub.streams) : undefined;
    this.modules = sub.modules.length ? new Set(sub.modules) : undefined;
    this.format = sub.format === Format.protobuf ? Format.protobuf : Format.ndjson;
    this.subscribed = true;
    // The hello confirms the subscription: events published from now on reach this client.
    this.sendFrame({
      case: "hello",
      value: {
        serverVersion: "0.1.0",
        user: this.hello.user,
        role: this.hello.role,
        expiresAt: BigInt(this.hello.expiresAt),
      },
    });
  }

  offer(event: Event, module: Module): void {
    if (!this.subscribed) return;
    if (this.streams && !this.streams.has(event.stream)) return;
    if (this.modules && module !== Module.MODULE_UNSPECIFIED && !this.modules.has(module)) return;
    if (DROPPABLE.has(event.stream) && this.transport.bufferedAmount() > MAX_BUFFERED_BYTES) {
      const gap = this.lost.get(event.stream) ?? { from: event.seq, to: event.seq, count: 0n };
      gap.to = event.seq;
      gap.count += 1n;
      this.lost.set(event.stream, gap);
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    for (const [stream, gap] of this.lost) {
      this.sendFrame({
        case: "gap",
        value: {
          stream,
          fromSeq: gap.from,
          toSeq: gap.to,
          lost: gap.count,
          reason: "client too slow: its queue was full",
        },
      });
    }
    this.lost.clear();
    if (this.queue.length === 0) return;
    const events = this.queue;
    this.queue = [];
    this.sendFrame({ case: "batch", value: { events } });
  }

  private sendFrame(frame: MessageInitShape<typeof ServerFrameSchema>["frame"]): void {
    const msg = create(ServerFrameSchema, { schemaVersion: 1, frame });
    if (this.format === Format.protobuf) this.transport.send(toBinary(ServerFrameSchema, msg));
    else this.transport.send(JSON.stringify(toWireJson(ServerFrameSchema, msg)) + "\n");
  }
}
