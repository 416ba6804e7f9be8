import WebSocket from "ws";
import type { BusRecord as WireRecord, LinkDelivery } from "@mevlab/proto";
import { BusError, describe } from "../errors";
import {
  encodeHandledFrame,
  encodeLinkFrame,
  encodeOutgoing,
  encodePublishFrame,
  decodeLinkFrame,
  fitsOneFrame,
  fromWire,
  recordTooBig,
  splitIntoFrames,
  type EncodedRecord,
  type FrameInit,
} from "./link-frames";
import {
  oneByOne,
  type BatchHandler,
  type Bus,
  type BusRecord,
  type OutgoingRecord,
  type RecordHandler,
  type SubscribeOptions,
  type Subscription,
  type TopicRecord,
} from "./bus";

export { decodeLinkFrame, encodeDelivery, encodeLinkFrame } from "./link-frames";
export * from "./link-session";

/** WebSocket sub-protocol of the bus link; the token travels as a second protocol `bearer.<jwt>`. */
export const LINK_PROTOCOL = "mevlab.link.v1";

/**
 * The largest frame the bus link carries, in bytes (proto/TOPICS.md, "Bus link"): the control plane
 * accepts no larger one, and LinkBus splits what it sends (a publish, a handled delivery's output)
 * into frames of at most this size; a single record that cannot fit is refused with a BusError.
 * Records are under 1 KB; an agent's 100 ms batch at its highest rate is ~330 KB, so it is split.
 */
export const LINK_MAX_FRAME_BYTES = 256 * 1024;

export interface LinkBusOptions {
  /** ws://host:port/api/bus/ws */
  url: string;
  /** The agent token, or a function read at every connection (a renewed credential file). */
  token: string | (() => string);
  /** Reconnect delay bounds, ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onStateChange?: (connected: boolean, reason?: string) => void;
  /** The largest frame to send: the receiver's limit (default LINK_MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
}

interface ClientSub {
  id: bigint;
  options: SubscribeOptions;
  handler: BatchHandler;
  /** The socket the subscription was last sent on: every new socket gets every subscription. */
  sentOn?: WebSocket;
}

/**
 * Agent side of the link: a Bus that reaches the control plane's in-process bus over a WebSocket.
 * Reconnects with backoff and re-subscribes; the group resumes where it stopped.
 */
export class LinkBus implements Bus {
  readonly kind = "link";
  private ws?: WebSocket;
  private open?: Promise<WebSocket>;
  private nextId = 1n;
  private readonly pending = new Map<bigint, { resolve: (records: BusRecord[]) => void; reject: (e: Error) => void }>();
  private readonly subs = new Map<bigint, ClientSub>();
  private closed = false;
  private backoff: number;
  /** No new socket before this time (ms since the epoch): the backoff holds for every caller. */
  private nextAttemptAt = 0;
  private readonly maxFrameBytes: number;

  constructor(private readonly options: LinkBusOptions) {
    this.backoff = options.minBackoffMs ?? 100;
    this.maxFrameBytes = options.maxFrameBytes ?? LINK_MAX_FRAME_BYTES;
  }

  /**
   * Sends the records in as many frames as the frame limit needs, in order, each once the previous
   * one is accepted. A publish larger than one frame is therefore not atomic: when a frame fails, the
   * ones before it stay published (as a Kafka publish across partitions).
   */
  async publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    await this.publishEncoded(
      records.map((r) => encodeOutgoing({ ...r, topic })),
      topic,
    );
  }

  subscribe(options: SubscribeOptions, handler: RecordHandler): Promise<Subscription> {
    return this.subscribeBatches(options, oneByOne(handler));
  }

  async subscribeBatches(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const id = this.nextId++;
    const sub: ClientSub = { id, options, handler };
    this.subs.set(id, sub);
    try {
      await this.subscribeOn(await this.connect(), sub);
    } catch (err) {
      this.subs.delete(id);
      throw err;
    }
    return { close: () => this.unsubscribe(id) };
  }

  /**
   * Forgets a subscription here and tells the control plane to stop delivering it. When the link is
   * down there is nothing to tell: the session that held it ended with its socket.
   */
  private async unsubscribe(subscription: bigint): Promise<void> {
    const sub = this.subs.get(subscription);
    this.subs.delete(subscription);
    const ws = this.ws;
    if (!sub || !ws || sub.sentOn !== ws || ws.readyState !== WebSocket.OPEN) return;
    const id = this.nextId++;
    await this.requestOn(ws, id, encodeLinkFrame({ case: "unsubscribe", value: { id, subscription } })).catch(
      () => undefined,
    );
  }

  async snapshot(topic: string): Promise<BusRecord[]> {
    const id = this.nextId++;
    return this.request(id, { case: "snapshot", value: { id, topic } }, topic);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ws?.close(1000, "bus closed");
    this.failPending(new BusError("bus closed", { retriable: false }));
  }

  private async publishEncoded(records: readonly EncodedRecord[], topic?: string): Promise<void> {
    for (const run of splitIntoFrames(records, this.maxFrameBytes)) {
      const id = this.nextId++;
      await this.requestBytes(id, encodePublishFrame(id, run), topic);
    }
  }

  private request(id: bigint, frame: FrameInit, topic?: string): Promise<BusRecord[]> {
    return this.requestBytes(id, encodeLinkFrame(frame), topic);
  }

  private async requestBytes(id: bigint, frame: Uint8Array, topic?: string): Promise<BusRecord[]> {
    return this.requestOn(await this.connect(), id, frame, topic);
  }

  private requestOn(ws: WebSocket, id: bigint, frame: Uint8Array, topic?: string): Promise<BusRecord[]> {
    return new Promise<BusRecord[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      ws.send(frame, (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(new BusError(`bus link send failed: ${describe(err)}`, { retriable: true, topic, cause: err }));
      });
    });
  }

  private connect(): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new BusError("bus closed", { retriable: false }));
    // Between attempts a publish fails at once: each opening a socket of its own made a link that
    // keeps failing reconnect hundreds of times a second.
    if (!this.open && Date.now() < this.nextAttemptAt) {
      const wait = this.nextAttemptAt - Date.now();
      return Promise.reject(new BusError(`bus link down; next attempt in ${wait} ms`, { retriable: true }));
    }
    this.open ??= this.openSocket().then((ws) => this.resubscribe(ws));
    return this.open;
  }

  /**
   * Sends every subscription made on an earlier socket on one that has just opened, before anything
   * else may use it. A publish that opened the socket before the reconnect timer fired used to leave
   * the agent subscribed to nothing: heartbeating, shown live, and deaf to commands. A subscription
   * the control plane refuses is reported and left out; a socket that fails meanwhile fails the open.
   */
  private async resubscribe(ws: WebSocket): Promise<WebSocket> {
    for (const sub of [...this.subs.values()]) {
      if (sub.sentOn === undefined || sub.sentOn === ws) continue;
      try {
        await this.subscribeOn(ws, sub);
      } catch (err) {
        if (err instanceof BusError && err.retriable) throw err;
        this.subs.delete(sub.id);
        this.options.onStateChange?.(
          true,
          `subscription to ${sub.options.topics.join(", ")} refused: ${describe(err)}`,
        );
      }
    }
    return ws;
  }

  private async subscribeOn(ws: WebSocket, sub: ClientSub): Promise<void> {
    sub.sentOn = ws;
    await this.requestOn(ws, sub.id, encodeLinkFrame(subscribeFrame(sub)));
  }

  private openSocket(): Promise<WebSocket> {
    return new Promise<WebSocket>((resolve, reject) => {
      // Agents sit next to the control plane: compression would only cost CPU.
      const token = typeof this.options.token === "string" ? this.options.token : this.options.token();
      const ws = new WebSocket(this.options.url, [LINK_PROTOCOL, `bearer.${token}`], {
        perMessageDeflate: false,
      });
      ws.binaryType = "nodebuffer";
      ws.on("open", () => {
        this.ws = ws;
        this.backoff = this.options.minBackoffMs ?? 100;
        this.options.onStateChange?.(true);
        resolve(ws);
      });
      ws.on("message", (data: Buffer) => void this.onFrame(ws, new Uint8Array(data)));
      ws.on("unexpected-response", (_req, res) => {
        reject(new BusError(`bus link refused: HTTP ${res.statusCode}`, { retriable: res.statusCode !== 401 }));
        ws.terminate();
      });
      ws.on("error", (err) => reject(new BusError(`bus link: ${describe(err)}`, { retriable: true, cause: err })));
      ws.on("close", (code, reason) => this.onClose(ws, `${code} ${reason.toString()}`));
    });
  }

  private onClose(ws: WebSocket, reason: string): void {
    if (this.ws === ws || this.ws === undefined) {
      this.ws = undefined;
      this.open = undefined;
    }
    this.failPending(new BusError(`bus link closed: ${reason}`, { retriable: true }));
    if (this.closed) return;
    this.options.onStateChange?.(false, reason);
    this.nextAttemptAt = Date.now() + this.backoff;
    setTimeout(() => void this.reconnect(), this.backoff).unref();
    this.backoff = Math.min(this.backoff * 2, this.options.maxBackoffMs ?? 2_000);
  }

  private async reconnect(): Promise<void> {
    if (this.closed || this.open) return;
    try {
      await this.connect();
    } catch (err) {
      // The socket failed again; its close event has already scheduled the next attempt.
      this.options.onStateChange?.(false, describe(err));
    }
  }

  private async onFrame(ws: WebSocket, data: Uint8Array): Promise<void> {
    const frame = decodeLinkFrame(data).frame;
    if (frame.case === "done") {
      const p = this.pending.get(frame.value.id);
      this.pending.delete(frame.value.id);
      if (frame.value.error) p?.reject(new BusError(frame.value.error, { retriable: false }));
      else p?.resolve(frame.value.records.map(fromWire));
    } else if (frame.case === "delivery") {
      await this.onDelivery(ws, frame.value);
    }
  }

  /**
   * Hands a delivery to its handler and acks it with the output. Output too large to ride in the
   * handled frame is published first, frame by frame, and the delivery acked after, with no output:
   * a delivery is never acked before its output is on the bus.
   */
  private async onDelivery(ws: WebSocket, delivery: LinkDelivery): Promise<void> {
    const sub = this.subs.get(delivery.subscription);
    const wire = delivery.record ? [delivery.record] : delivery.records;
    let output = sub && wire.length > 0 ? await this.handle(sub, wire) : [];
    if (!fitsOneFrame(output, this.maxFrameBytes)) {
      try {
        await this.publishEncoded(output);
      } catch (err) {
        // Not acked: the link ends, and the agent reconnects and resubscribes (as when the control
        // plane cannot publish the output of a handled frame).
        process.emitWarning(`mevlab bus link: output of a delivery not published: ${describe(err)}`);
        ws.close(1011, "output of a delivery not published");
        return;
      }
      output = [];
    }
    const last = wire[wire.length - 1];
    ws.send(encodeHandledFrame(delivery.subscription, last?.offset ?? 0n, output));
  }

  /** The handler's output, encoded. A failing handler, or a record the link cannot carry, is a warning. */
  private async handle(sub: ClientSub, wire: WireRecord[]): Promise<EncodedRecord[]> {
    let output: readonly TopicRecord[];
    try {
      output = (await sub.handler(wire.map(fromWire))) ?? [];
    } catch (err) {
      process.emitWarning(`mevlab bus link: handler for ${wire[0].topic} failed: ${describe(err)}`);
      return [];
    }
    const encoded: EncodedRecord[] = [];
    for (const r of output.map(encodeOutgoing)) {
      if (fitsOneFrame([r], this.maxFrameBytes)) encoded.push(r);
      else process.emitWarning(`mevlab bus link: ${recordTooBig(r, this.maxFrameBytes).message}; left out`);
    }
    return encoded;
  }

  private failPending(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }
}

function subscribeFrame(sub: ClientSub): Extract<FrameInit, { case: "subscribe" }> {
  return {
    case: "subscribe",
    value: {
      id: sub.id,
      topics: [...sub.options.topics],
      group: sub.options.group,
      fromBeginning: sub.options.fromBeginning ?? false,
      keys: [...(sub.options.keys ?? [])],
      exclusive: sub.options.exclusive ?? false,
    },
  };
}
