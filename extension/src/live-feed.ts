import { Format, Stream, type Event, type Gap, type Hello } from "@mevlab/proto";
import {
  RealtimeConnection,
  type SubscribeRequest,
  type WebSocketFactory,
  type WebSocketLike,
} from "@mevlab/kernel-helpers/client";
import { errorText } from "./errors";

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
  /** A resumed socket's first event of a stream came: where it asked to resume and what came first. */
  onResumed?(resumed: ReadonlyMap<string, ResumePoint>): void;
}

/** Who the feed connects as: a logged-in ControlPlaneClient's URL and its session's fresh token. */
export interface FeedCredentials {
  readonly url: string;
  /** The access token, refreshed when it is about to expire (ControlPlaneClient.freshToken). */
  token(): Promise<string>;
}

/** Where a resumed feed asked to carry on, and the first seq that came after it, per stream. */
export interface ResumePoint {
  since: bigint;
  first?: bigint;
}

const STREAMS = [Stream.arb_opportunity, Stream.mev_opportunity];
/**
 * The close code of a revoked session (logout elsewhere, password changed, user disabled): the shared
 * connection expires it, and the feed does not come back until a login. 4001 (the access token expired
 * unrefreshed) is not the session's end: the feed reopens with a fresh token.
 */
const REVOKED = 4003;
/** A socket whose subscription the control plane has not confirmed by then is closed and tried again. */
const HANDSHAKE_MS = 10_000;

const browserWebSocket: WebSocketFactory = (url, protocols) =>
  new WebSocket(url, protocols) as unknown as WebSocketLike;

/**
 * The live stream's own realtime socket: both opportunity streams under the DEX and min-net-SOL
 * filters, applied by the control plane. New filters go as a new subscribe frame on the same socket.
 * A socket closed for any reason but the session's end (4003, stop) is reopened with backoff, with a
 * fresh token, asking to resume after the last seq seen per stream in the Hello's epoch; the control
 * plane replays what it still has and sends a Gap for the rest. `start(creds, true)` carries on the same
 * way after a stop (an expired session the same user logged in to again).
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
  /** Sockets reopened after an unexpected close, or for a resumed session. */
  reconnects = 0;
  state = "not connected";
  /** Per stream, where the last resumed socket asked to carry on and what came first (a test reads it). */
  readonly resumed = new Map<string, ResumePoint>();
  private resumeOpen = false;

  constructor(
    private readonly listener: LiveFeedListener,
    filters: LiveFilters,
    private readonly opts: { webSocket?: WebSocketFactory; backoffMs?: readonly number[]; handshakeMs?: number } = {},
  ) {
    this._filters = normalise(filters);
  }

  get filters(): LiveFilters {
    return this._filters;
  }

  /**
   * Opens the feed for a session: a new one (a login) starts from now; `resume` (the same user's
   * session carried on after it expired) asks for what was published since the last event seen.
   */
  start(creds: FeedCredentials, resume = false): void {
    this.stop();
    this.creds = creds;
    if (!resume) {
      this.epoch = "";
      this.lastSeq.clear();
      this.reconnects = 0;
      this.resumed.clear();
    }
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
    this.awaitingHello = false;
    rt?.close();
    this.setState("not connected");
  }

  /** New filters: a subscribe frame on the open socket (or at the next connect). */
  setFilters(filters: LiveFilters): void {
    this._filters = normalise(filters);
    this.lastSeq.clear();
    this.listener.onFiltersApplied(this._filters);
    this.resubscribe();
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
    const filters = this._filters;
    const request = this.request(resume);
    let rt: RealtimeConnection;
    try {
      rt = await this.open(creds, request);
    } catch (err) {
      if (generation === this.generation) this.retry(generation, errorText(err));
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
    this.noteResume(request);
    if (resume) this.reconnects++;
    this.listen(rt, generation);
    this.setState(resume ? `live · reconnected (${this.reconnects})` : "live");
    // Filters set while the socket was opening: the subscription it opened with is the old one.
    if (filters !== this._filters) this.resubscribe();
  }

  /** Opens a socket with a fresh token; one the control plane has not confirmed in HANDSHAKE_MS is closed. */
  private async open(creds: FeedCredentials, request: SubscribeRequest): Promise<RealtimeConnection> {
    const token = await creds.token();
    let ws: WebSocketLike | undefined;
    const factory = this.opts.webSocket ?? browserWebSocket;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ws?.close();
        reject(new Error(`no answer from the control plane in ${HANDSHAKE_MS / 1000} s`));
      }, this.opts.handshakeMs ?? HANDSHAKE_MS);
    });
    const opening = RealtimeConnection.open(creds.url, token, (u, p) => (ws = factory(u, p)), request);
    try {
      return await Promise.race([opening, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private listen(rt: RealtimeConnection, generation: number): void {
    rt.listen({
      onHello: (hello) => {
        if (this.awaitingHello) this.lastSeq.clear();
        this.awaitingHello = false;
        this.onHello(hello);
      },
      onEvents: (events) => this.onEvents(events),
      // Gaps of the old subscription are the old filters' too.
      onGap: (gap) => {
        if (!this.awaitingHello) this.listener.onGap(gap);
      },
      onError: (code, message) => {
        // A refused subscribe (bad_subscribe) leaves the old one in force: no Hello will come.
        const refused = this.awaitingHello;
        this.awaitingHello = false;
        this.setState(
          refused
            ? `live · the control plane refused the filters (${code}: ${message})`
            : `live · the control plane said ${code}: ${message}`,
        );
      },
    });
    rt.onClose((code, reason) => {
      if (this.rt !== rt) return;
      this.rt = null;
      this.awaitingHello = false;
      if (code === REVOKED) this.setState(`closed: ${reason || code}`);
      else this.retry(generation, `closed (${code}${reason ? ` ${reason}` : ""})`);
    });
  }

  private resubscribe(): void {
    if (!this.rt) return;
    this.awaitingHello = true;
    this.rt.session.subscribe(this.request(false));
  }

  /** A resumed socket: where it asked to carry on, per stream; the first seq after it is noted as it comes. */
  private noteResume(request: SubscribeRequest): void {
    this.resumeOpen = request.sinceSeq !== undefined;
    if (!request.sinceSeq) return;
    this.resumed.clear();
    for (const [name, since] of Object.entries(request.sinceSeq)) this.resumed.set(name, { since: BigInt(since) });
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
    if (this.resumeOpen) this.noteFirst(events);
    if (arb >= 0n) this.lastSeq.set("arb_opportunity", arb);
    if (mev >= 0n) this.lastSeq.set("mev_opportunity", mev);
    this.listener.onEvents(events);
  }

  private noteFirst(events: Event[]): void {
    let noted = false;
    for (const ev of events) {
      const point = this.resumed.get(Stream[ev.stream]);
      if (point && point.first === undefined) {
        point.first = ev.seq;
        noted = true;
      }
    }
    this.resumeOpen = [...this.resumed.values()].some((p) => p.first === undefined);
    if (noted) this.listener.onResumed?.(this.resumed);
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
