import { Format, Stream, type Event, type Gap, type Hello } from "@mevlab/proto";
import {
  RealtimeConnection,
  type SubscribeRequest,
  type WebSocketFactory,
  type WebSocketLike,
} from "@mevlab/kernel-helpers/client";

/** The server-side filters of the live stream. */
export interface LiveFilters {
  /** Opportunities touching one of these DEXes (case-insensitive); empty: all. */
  dexes: string[];
  /** Opportunities with at least this net profit (SOL); null: all. */
  minNetSol: number | null;
}

export interface LiveFeedListener {
  /** Opportunities under the filters in force. */
  onEvents(events: Event[]): void;
  /** Events the control plane says this feed will not receive. */
  onGap(gap: Gap): void;
  /** New filters took effect: what was received before no longer matches them. */
  onFiltersApplied(filters: LiveFilters): void;
  /** The feed's state in words changed (connected, reconnecting in N s, …). */
  onState(state: string): void;
}

/** Who the feed connects as: a logged-in ControlPlaneClient is one. */
export interface FeedCredentials {
  readonly url: string;
  readonly token: string;
}

const STREAMS = [Stream.arb_opportunity, Stream.mev_opportunity];
/** Close codes that end the session: the shared connection logs out; the feed does not come back. */
const SESSION_ENDED = new Set([4001, 4003]);

const browserWebSocket: WebSocketFactory = (url, protocols) =>
  new WebSocket(url, protocols) as unknown as WebSocketLike;

/**
 * The live stream's own realtime socket: both opportunity streams under the DEX and min-net-SOL
 * filters, applied by the control plane. New filters go as a new subscribe frame on the same socket.
 * A socket closed for any reason but the session's end (4001, 4003, stop) is reopened with backoff,
 * asking to resume after the last seq seen per stream in the Hello's epoch; the control plane replays
 * what it still has and sends a Gap for the rest.
 */
export class LiveFeed {
  private creds: FeedCredentials | null = null;
  private rt: RealtimeConnection | null = null;
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private epoch = "";
  private readonly lastSeq = new Map<string, bigint>();
  /** Events before the Hello of a new subscription are the old filters' (in flight): dropped. */
  private awaitingHello = false;
  private _filters: LiveFilters;
  /** Sockets reopened after an unexpected close. */
  reconnects = 0;
  state = "not connected";

  constructor(
    private readonly listener: LiveFeedListener,
    filters: LiveFilters,
    private readonly opts: { webSocket?: WebSocketFactory; backoffMs?: readonly number[] } = {},
  ) {
    this._filters = normalise(filters);
  }

  get filters(): LiveFilters {
    return this._filters;
  }

  get connected(): boolean {
    return this.rt !== null;
  }

  /** Opens the feed for a new session (a login). */
  start(creds: FeedCredentials): void {
    this.stop();
    this.creds = creds;
    this.epoch = "";
    this.lastSeq.clear();
    this.failures = 0;
    void this.connect(this.generation);
  }

  /** Closes the feed (logout, panel closed). */
  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.creds = null;
    const rt = this.rt;
    this.rt = null;
    rt?.close();
    this.setState("not connected");
  }

  /** New filters: a subscribe frame on the open socket (or at the next connect). */
  setFilters(filters: LiveFilters): void {
    this._filters = normalise(filters);
    this.lastSeq.clear();
    this.listener.onFiltersApplied(this._filters);
    if (!this.rt) return;
    this.awaitingHello = true;
    this.rt.session.subscribe(this.request(false));
  }

  private request(resume: boolean): SubscribeRequest {
    const f = this._filters;
    const req: SubscribeRequest = { streams: STREAMS, format: Format.protobuf, dexes: f.dexes };
    if (f.minNetSol !== null) req.minNetSol = f.minNetSol;
    if (resume && this.epoch && this.lastSeq.size > 0) {
      req.sinceSeq = Object.fromEntries(this.lastSeq);
      req.epoch = this.epoch;
    }
    return req;
  }

  private async connect(generation: number): Promise<void> {
    const creds = this.creds;
    if (!creds || generation !== this.generation) return;
    const resume = this.epoch !== "";
    this.setState(resume ? "reconnecting…" : "connecting…");
    let rt: RealtimeConnection;
    try {
      rt = await RealtimeConnection.open(
        creds.url,
        creds.token,
        this.opts.webSocket ?? browserWebSocket,
        this.request(resume),
      );
    } catch (err) {
      if (generation === this.generation) this.retry(generation, err instanceof Error ? err.message : String(err));
      return;
    }
    if (generation !== this.generation) {
      rt.close();
      return;
    }
    this.rt = rt;
    this.failures = 0;
    this.awaitingHello = false;
    this.onHello(rt.hello);
    if (resume) this.reconnects++;
    rt.listen({
      onHello: (hello) => {
        this.awaitingHello = false;
        this.onHello(hello);
      },
      onEvents: (events) => this.onEvents(events),
      onGap: (gap) => this.listener.onGap(gap),
      onError: (code, message) => this.setState(`live · the control plane said ${code}: ${message}`),
    });
    rt.onClose((code, reason) => {
      if (this.rt !== rt) return;
      this.rt = null;
      if (SESSION_ENDED.has(code)) this.setState(`closed: ${reason || code}`);
      else this.retry(generation, `closed (${code}${reason ? ` ${reason}` : ""})`);
    });
    this.setState(resume ? `live · reconnected (${this.reconnects})` : "live");
  }

  /** The resume point starts at the Hello's last seq of each stream: nothing seen yet is nothing missed. */
  private onHello(hello: Hello): void {
    this.epoch = hello.epoch;
    for (const s of STREAMS) {
      const name = Stream[s];
      if (!this.lastSeq.has(name)) this.lastSeq.set(name, hello.lastSeq[name] ?? 0n);
    }
  }

  private onEvents(events: Event[]): void {
    if (this.awaitingHello) return;
    let arb = -1n;
    let mev = -1n;
    for (const ev of events) {
      if (ev.stream === Stream.arb_opportunity) arb = ev.seq;
      else if (ev.stream === Stream.mev_opportunity) mev = ev.seq;
    }
    if (arb >= 0n) this.lastSeq.set("arb_opportunity", arb);
    if (mev >= 0n) this.lastSeq.set("mev_opportunity", mev);
    this.listener.onEvents(events);
  }

  private retry(generation: number, why: string): void {
    const backoff = this.opts.backoffMs ?? [500, 1_000, 2_000, 5_000, 10_000];
    const ms = backoff[Math.min(this.failures, backoff.length - 1)];
    this.failures++;
    this.setState(`${why}; reconnecting in ${(ms / 1000).toFixed(1)} s`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(generation), ms);
  }

  private setState(state: string): void {
    if (state === this.state) return;
    this.state = state;
    this.listener.onState(state);
  }
}

/** DEXes trimmed, empty ones and repeats dropped; a min net SOL that is not a finite number is none. */
export function normalise(f: LiveFilters): LiveFilters {
  const dexes = [...new Set(f.dexes.map((d) => d.trim()).filter((d) => d.length > 0))];
  const min = f.minNetSol;
  return { dexes, minNetSol: typeof min === "number" && Number.isFinite(min) ? min : null };
}
