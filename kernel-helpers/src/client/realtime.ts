import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  ClientFrameSchema,
  Format,
  ServerFrameSchema,
  fromWireJson,
  toWireJson,
  type Event,
  type Gap,
  type Hello,
  type Module,
  type ServerFrame,
  type Stream,
} from "@mevlab/proto";

/** WebSocket sub-protocol of /api/realtime/ws; the token travels as a second protocol `bearer.<jwt>`. */
export const REALTIME_PROTOCOL = "mevlab.v1";

export interface RealtimeListener {
  onHello?(hello: Hello): void;
  onEvents?(events: Event[]): void;
  onGap?(gap: Gap): void;
  onError?(code: string, message: string): void;
}

export interface SubscribeRequest {
  streams?: Stream[];
  modules?: Module[];
  format?: Format;
  /** Opportunities touching one of these DEXes (case-insensitive). */
  dexes?: string[];
  /** Opportunities with at least this net profit (SOL). */
  minNetSol?: number;
  /** Resume: stream name -> last seq seen, within `epoch` (from the Hello). */
  sinceSeq?: Record<string, bigint>;
  epoch?: string;
  /** control_request: only final records (one event per command instead of one per change). */
  finalRequests?: boolean;
}

/**
 * The realtime protocol without a socket: give it a `send`, feed it every message the socket
 * receives, and it decodes frames (NDJSON text or protobuf binary) into typed events.
 */
export class RealtimeSession {
  private readonly listeners = new Set<RealtimeListener>();
  /**
   * Frames that came while nobody listened, kept until the event loop turns. Node's WebSocket
   * delivers every frame of one read at once: the replay right after the Hello arrives before the
   * code that awaited the open can listen. Whoever listens within the same turn gets them.
   */
  private unheard: ServerFrame[] = [];

  constructor(private readonly send: (data: string | Uint8Array) => void) {}

  listen(listener: RealtimeListener): () => void {
    this.listeners.add(listener);
    for (const frame of this.unheard) deliver(listener, frame);
    return () => this.listeners.delete(listener);
  }

  subscribe(request: SubscribeRequest = {}): void {
    const frame = create(ClientFrameSchema, {
      schemaVersion: 1,
      frame: {
        case: "subscribe",
        value: {
          streams: request.streams ?? [],
          modules: request.modules ?? [],
          format: request.format ?? Format.ndjson,
          dexes: request.dexes ?? [],
          minNetSol: request.minNetSol,
          sinceSeq: request.sinceSeq ?? {},
          epoch: request.epoch ?? "",
          finalRequests: request.finalRequests ?? false,
        },
      },
    });
    if (request.format === Format.protobuf) this.send(toBinary(ClientFrameSchema, frame));
    else this.send(JSON.stringify(toWireJson(ClientFrameSchema, frame)));
  }

  handleMessage(data: string | ArrayBuffer | Uint8Array): void {
    if (typeof data === "string") {
      for (const line of data.split("\n")) {
        if (line.trim()) this.dispatch(fromWireJson(ServerFrameSchema, JSON.parse(line)));
      }
      return;
    }
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.dispatch(fromBinary(ServerFrameSchema, bytes));
  }

  private dispatch(frame: ServerFrame): void {
    if (this.listeners.size === 0) {
      if (this.unheard.length === 0) setTimeout(() => (this.unheard = []), 0);
      this.unheard.push(frame);
      return;
    }
    for (const l of this.listeners) deliver(l, frame);
  }
}

function deliver(l: RealtimeListener, frame: ServerFrame): void {
  const f = frame.frame;
  if (f.case === "hello") l.onHello?.(f.value);
  else if (f.case === "batch") l.onEvents?.(f.value.events);
  else if (f.case === "gap") l.onGap?.(f.value);
  else if (f.case === "error") l.onError?.(f.value.code, f.value.message);
}
