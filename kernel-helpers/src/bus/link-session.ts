import type { BusRecord as WireRecord, LinkFrame, LinkHandled, LinkSubscribe } from "@mevlab/proto";
import { BusError, describe } from "../errors";
import { decodeLinkFrame, encodeDelivery, encodeLinkFrame, outgoing, toWire } from "./link-frames";
import { publishInOrder, type Bus, type BusRecord, type Subscription } from "./bus";

/**
 * Server side of the bus link (the control plane's): one session per agent connection, serving it
 * from the in-process bus under the rules of a LinkGuard. The agent side is LinkBus (link.ts).
 */

/** What a peer asks to subscribe to, as a guard sees it. */
export interface LinkSubscribeRequest {
  topics: readonly string[];
  group: string;
  keys: readonly string[];
  fromBeginning: boolean;
}

/**
 * What one peer may do on its link session (the control plane binds it to the peer's token). Each
 * check returns why it is refused, or undefined; a refused frame is answered with that reason,
 * reported through `onRefused`, and has no effect.
 */
export interface LinkGuard {
  subscribe(req: LinkSubscribeRequest): string | undefined;
  snapshot(topic: string): string | undefined;
  /** Whether a record of a snapshot is shown to the peer. */
  visible(record: { key: string }): boolean;
  /** Every record the peer publishes, in a publish frame or with a handled delivery. */
  publish(records: readonly WireRecord[]): string | undefined;
}

export interface LinkSessionLimits {
  /** Subscriptions open at once (default 8). */
  maxSubscriptions?: number;
  /** Bytes of frames being handled at once; past it the link ends (default 8 MiB). */
  maxInFlightBytes?: number;
}

/** A subscription served over the link, with the delivery the agent has not handled yet. */
interface SessionSub {
  sub?: Subscription;
  waiting?: { done: () => void; fail: (err: Error) => void };
}

/**
 * Server side of the link, transport-agnostic: the control plane feeds it the frames of one
 * WebSocket and gives it a `send`. It serves the agent from the in-process bus.
 */
export class LinkSession {
  private readonly subs = new Map<bigint, SessionSub>();
  private closed = false;
  private inFlight = 0;
  private readonly maxSubscriptions: number;
  private readonly maxInFlightBytes: number;

  constructor(
    private readonly bus: Bus,
    private readonly send: (data: Uint8Array) => void,
    /** Ends the link; the agent reconnects and resubscribes. */
    private readonly end: (reason: string) => void = () => undefined,
    private readonly access: {
      guard?: LinkGuard;
      /** A refused frame: what was asked (publish, subscribe, snapshot, handled) and why. */
      onRefused?: (kind: string, reason: string) => void;
      limits?: LinkSessionLimits;
    } = {},
  ) {
    this.maxSubscriptions = access.limits?.maxSubscriptions ?? 8;
    this.maxInFlightBytes = access.limits?.maxInFlightBytes ?? 8 * 1024 * 1024;
  }

  async handleMessage(data: Uint8Array): Promise<void> {
    if (this.inFlight + data.byteLength > this.maxInFlightBytes) {
      this.refused("in-flight", `more than ${this.maxInFlightBytes} bytes of frames in flight`);
      this.end("too many bytes in flight");
      return;
    }
    this.inFlight += data.byteLength;
    try {
      await this.handleFrame(data);
    } finally {
      this.inFlight -= data.byteLength;
    }
  }

  private refused(kind: string, reason: string): string {
    this.access.onRefused?.(kind, reason);
    return `forbidden: ${reason}`;
  }

  /** The reason a frame is refused, or undefined: the guard's rules, then the session's caps. */
  private refusal(f: LinkFrame["frame"]): string | undefined {
    const guard = this.access.guard;
    let why: string | undefined;
    switch (f.case) {
      case "publish":
        why = guard?.publish(f.value.records);
        break;
      case "handled":
        why = f.value.publish.length > 0 ? guard?.publish(f.value.publish) : undefined;
        break;
      case "snapshot":
        why = guard?.snapshot(f.value.topic);
        break;
      case "subscribe":
        why =
          guard?.subscribe({ ...f.value, keys: f.value.keys }) ??
          (this.subs.size >= this.maxSubscriptions
            ? `at most ${this.maxSubscriptions} subscriptions per link`
            : undefined);
        break;
      default:
        return undefined;
    }
    return why === undefined ? undefined : this.refused(f.case, why);
  }

  private async handleFrame(data: Uint8Array): Promise<void> {
    let frame: LinkFrame;
    try {
      frame = decodeLinkFrame(data);
    } catch (err) {
      this.send(encodeLinkFrame({ case: "done", value: { id: 0n, error: `bad frame: ${describe(err)}` } }));
      return;
    }
    const f = frame.frame;
    const refused = this.refusal(f);
    if (refused !== undefined) {
      // A refused handled frame is not acked: the delivery stays unhandled and the link ends.
      if (f.case === "handled") return this.end(refused);
      const id = f.case === undefined || f.case === "done" || f.case === "delivery" ? 0n : f.value.id;
      this.send(encodeLinkFrame({ case: "done", value: { id, error: refused } }));
      return;
    }
    switch (f.case) {
      case "publish":
        return this.answer(f.value.id, () => publishInOrder(this.bus, f.value.records.map(outgoing)));
      case "subscribe":
        return this.subscribe(f.value);
      case "snapshot": {
        const visible = this.access.guard?.visible ?? (() => true);
        return this.answer(f.value.id, async () =>
          (await this.bus.snapshot(f.value.topic)).filter(visible).map(toWire),
        );
      }
      case "handled":
        return this.handled(f.value);
      case "unsubscribe":
        return this.answer(f.value.id, () => this.unsubscribe(f.value.subscription));
      default:
        this.send(encodeLinkFrame({ case: "done", value: { id: 0n, error: `unexpected frame ${f.case}` } }));
    }
  }

  /** Runs a request of the peer and answers `done`, with the records it returns or the error. */
  private async answer(id: bigint, work: () => Promise<ReturnType<typeof toWire>[] | void>): Promise<void> {
    try {
      const records = (await work()) ?? [];
      this.send(encodeLinkFrame({ case: "done", value: { id, records } }));
    } catch (err) {
      this.send(encodeLinkFrame({ case: "done", value: { id, error: describe(err) } }));
    }
  }

  private subscribe(req: LinkSubscribe): Promise<void> {
    const { id, topics, group, fromBeginning, keys, exclusive } = req;
    const entry: SessionSub = {};
    this.subs.set(id, entry);
    return this.answer(id, async () => {
      try {
        entry.sub = await this.bus.subscribeBatches({ topics, group, fromBeginning, keys, exclusive }, (records) =>
          this.deliver(id, entry, records),
        );
      } catch (err) {
        this.subs.delete(id);
        throw err;
      }
    });
  }

  /** The peer handled a delivery: its output is published, then the delivery counts as handled. */
  private async handled(h: LinkHandled): Promise<void> {
    const entry = this.subs.get(h.subscription);
    const waiting = entry?.waiting;
    if (entry) entry.waiting = undefined;
    if (h.publish.length > 0) {
      try {
        await publishInOrder(this.bus, h.publish.map(outgoing));
      } catch (err) {
        // The delivery does not count as handled (a bus that redelivers sends it again) and
        // the link ends: the agent reconnects and resubscribes.
        const why = `output of a handled delivery not published: ${describe(err)}`;
        waiting?.fail(new BusError(why, { retriable: true }));
        this.end(why);
        return;
      }
    }
    waiting?.done();
  }

  private async unsubscribe(subscription: bigint): Promise<void> {
    const entry = this.subs.get(subscription);
    this.subs.delete(subscription);
    entry?.waiting?.done();
    await entry?.sub?.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.subs.values()) {
      entry.waiting?.done();
      await entry.sub?.close();
    }
    this.subs.clear();
  }

  /** Delivers a batch and resolves when the agent says it has handled it. */
  private deliver(id: bigint, entry: SessionSub, records: BusRecord[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      entry.waiting = { done: resolve, fail: reject };
      this.send(encodeDelivery(id, records));
    });
  }
}
