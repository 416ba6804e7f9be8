import WebSocket from "ws";
import { RealtimeSession, type SubscribeRequest } from "@mevlab/kernel-helpers";
import { REALTIME_PROTOCOL } from "@mevlab/kernel-helpers";
import { Stream, type Event, type Gap, type Hello } from "@mevlab/proto";

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
      this.session.handleMessage(isBinary ? new Uint8Array(data) : data.toString("utf8"));
    });
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
