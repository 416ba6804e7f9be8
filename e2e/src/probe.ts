import WebSocket from "ws";
import { RealtimeSession, type SubscribeRequest } from "@mevlab/kernel-helpers";
import { REALTIME_PROTOCOL } from "@mevlab/kernel-helpers";
import { EventSchema, Stream, decode, type Event, type Gap, type Hello } from "@mevlab/proto";

/** A realtime client for tests and benchmarks: records events, gaps and arrival times. */
export class RealtimeProbe {
  readonly events: Event[] = [];
  readonly receivedAt: number[] = [];
  readonly gaps: Gap[] = [];
  readonly errors: string[] = [];
  bytes = 0;
  frames = 0;
  hello?: Hello;
  private readonly ws: WebSocket;
  private readonly session: RealtimeSession;
  private readonly helloSeen: Promise<Hello>;
  /** Called for every batch (after recording). */
  onEvents?: (events: Event[], at: number) => void;

  /**
   * Light mode (benchmarks): Batch frames are counted without decoding every event; only the first and
   * last event of each frame are decoded, and their opportunity timestamps handed to `onLight`. A
   * browser decodes every event on its own machine; here ten clients share two cores with the broker,
   * the producer and the control plane, so their decoding would be measured instead of the delivery.
   */
  onLight?: (count: number, timestamps: number[], at: number) => void;

  constructor(url: string, token: string, opts: { deflate?: boolean; record?: boolean } = {}) {
    const wsUrl = url.replace(/^http/, "ws") + "/api/realtime/ws";
    this.ws = new WebSocket(wsUrl, [REALTIME_PROTOCOL, `bearer.${token}`], {
      perMessageDeflate: opts.deflate ?? false,
    });
    this.session = new RealtimeSession((d) => this.ws.send(d));
    const record = opts.record ?? true;
    this.helloSeen = new Promise((resolve, reject) => {
      this.session.listen({
        onHello: (h) => {
          this.hello = h;
          resolve(h);
        },
        onEvents: (events) => {
          const at = Date.now();
          if (record) {
            for (const e of events) {
              this.events.push(e);
              this.receivedAt.push(at);
            }
          }
          this.onEvents?.(events, at);
        },
        onGap: (g) => this.gaps.push(g),
        onError: (code, message) => {
          this.errors.push(`${code}: ${message}`);
          reject(new Error(`${code}: ${message}`));
        },
      });
      this.ws.once("error", reject);
      this.ws.once("close", (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    });
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.frames += 1;
      this.bytes += data.length;
      if (this.onLight && this.light(data, isBinary)) return;
      this.session.handleMessage(isBinary ? new Uint8Array(data) : data.toString("utf8"));
    });
  }

  /** Counts a Batch frame's events and samples the first and last; false for other frames. */
  private light(data: Buffer, isBinary: boolean): boolean {
    const at = Date.now();
    if (!isBinary) {
      const text = data.toString("utf8");
      if (!text.startsWith('{"schema_version":1,"batch"')) return false;
      let count = 0;
      const ts: number[] = [];
      for (const line of text.split("\n")) {
        if (!line) continue;
        const events = (JSON.parse(line) as { batch: { events: Array<{ arb_opportunity?: { ts: string } }> } }).batch
          .events;
        count += events.length;
        for (const e of [events[0], events[events.length - 1]])
          if (e?.arb_opportunity) ts.push(Number(e.arb_opportunity.ts));
      }
      this.onLight!(count, ts, at);
      return true;
    }
    // ServerFrame: field 1 schema_version (varint), field 3 batch (bytes) holding Batch.events (field 1).
    let o = 0;
    const varint = (): number => {
      let v = 0;
      let shift = 0;
      for (;;) {
        const b = data[o++];
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return v;
        shift += 7;
      }
    };
    let batchEnd = -1;
    while (o < data.length) {
      const tag = varint();
      if (tag === 0x08) varint();
      else if (tag === 0x1a) {
        const len = varint();
        batchEnd = o + len;
        break;
      } else return false;
    }
    if (batchEnd < 0) return false;
    let count = 0;
    let first: Uint8Array | undefined;
    let last: Uint8Array | undefined;
    while (o < batchEnd) {
      if (varint() !== 0x0a) return false;
      const len = varint();
      const event = data.subarray(o, o + len);
      if (!first) first = event;
      last = event;
      o += len;
      count++;
    }
    const ts: number[] = [];
    for (const e of first === last ? [first] : [first, last]) {
      if (!e) continue;
      const ev = decode(EventSchema, e);
      if (ev.payload.case === "arbOpportunity") ts.push(Number(ev.payload.value.ts));
    }
    this.onLight!(count, ts, at);
    return true;
  }

  /** Opens, subscribes and waits for the Hello. */
  async subscribe(request: SubscribeRequest): Promise<Hello> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      await new Promise<void>((resolve, reject) => {
        this.ws.once("open", () => resolve());
        this.ws.once("error", reject);
      });
    }
    this.session.subscribe(request);
    return this.helloSeen;
  }

  /** Stops reading from the socket (the kernel buffers fill, then the server's queue). */
  pause(): void {
    (this.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }

  resume(): void {
    (this.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  }

  /** Highest seq seen per stream name. */
  lastSeq(): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    return this.events.reduce((acc, e) => {
      const k = Stream[e.stream];
      if (!(k in acc) || acc[k] < e.seq) acc[k] = e.seq;
      return acc;
    }, out);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}
