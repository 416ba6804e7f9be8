import WebSocket from "ws";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { BusRecordSchema, LinkFrameSchema, type BusRecord as WireRecord, type LinkFrame } from "@mevlab/proto";
import { BusError, describe } from "../errors";
import {
  oneByOne,
  publishInOrder,
  type BatchHandler,
  type Bus,
  type BusRecord,
  type OutgoingRecord,
  type RecordHandler,
  type SubscribeOptions,
  type Subscription,
  type TopicRecord,
} from "./bus";

/** WebSocket sub-protocol of the bus link; the token travels as a second protocol `bearer.<jwt>`. */
export const LINK_PROTOCOL = "mevlab.link.v1";

type FrameInit = MessageInitShape<typeof LinkFrameSchema>["frame"];

export function encodeLinkFrame(frame: FrameInit): Uint8Array {
  return toBinary(LinkFrameSchema, create(LinkFrameSchema, { schemaVersion: 1, frame }));
}

export function decodeLinkFrame(data: Uint8Array): LinkFrame {
  return fromBinary(LinkFrameSchema, data);
}

/**
 * Each record's encoding, made once: the in-process bus hands every group the same record object,
 * so a command for a module's agents is encoded once, not once per agent.
 */
const encodedRecords = new WeakMap<BusRecord, Uint8Array>();

function encodeRecord(r: BusRecord): Uint8Array {
  const known = encodedRecords.get(r);
  if (known) return known;
  const bytes = toBinary(BusRecordSchema, create(BusRecordSchema, toWire(r)));
  encodedRecords.set(r, bytes);
  return bytes;
}

/**
 * `LinkFrame{schema_version: 1, delivery: {subscription, records}}` written around the records'
 * encodings: the bytes `encodeLinkFrame` gives for the same delivery.
 */
export function encodeDelivery(subscription: bigint, records: readonly BusRecord[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint32(1);
  w.tag(5, WireType.LengthDelimited).fork();
  if (subscription !== 0n) w.tag(1, WireType.Varint).uint64(subscription);
  for (const r of records) w.tag(3, WireType.LengthDelimited).bytes(encodeRecord(r));
  w.join();
  return w.finish();
}

function toWire(r: BusRecord): MessageInitShape<typeof BusRecordSchema> {
  return {
    topic: r.topic,
    key: r.key,
    value: r.value,
    headers: r.headers,
    offset: BigInt(r.offset),
    timestamp: BigInt(r.timestamp),
  };
}

function outgoing(r: WireRecord): TopicRecord {
  return { topic: r.topic, key: r.key, value: r.value, headers: { ...r.headers } };
}

function fromWire(r: WireRecord): BusRecord {
  return {
    topic: r.topic,
    key: r.key,
    value: r.value,
    headers: { ...r.headers },
    offset: r.offset.toString(),
    timestamp: Number(r.timestamp),
  };
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

  constructor(
    private readonly bus: Bus,
    private readonly send: (data: Uint8Array) => void,
    /** Ends the link; the agent reconnects and resubscribes. */
    private readonly end: (reason: string) => void = () => undefined,
  ) {}

  async handleMessage(data: Uint8Array): Promise<void> {
    let frame: LinkFrame;
    try {
      frame = decodeLinkFrame(data);
    } catch (err) {
      this.send(encodeLinkFrame({ case: "done", value: { id: 0n, error: `bad frame: ${describe(err)}` } }));
      return;
    }
    const f = frame.frame;
    switch (f.case) {
      case "publish": {
        const { id, records } = f.value;
        try {
          await publishInOrder(this.bus, records.map(outgoing));
          this.send(encodeLinkFrame({ case: "done", value: { id } }));
        } catch (err) {
          this.send(encodeLinkFrame({ case: "done", value: { id, error: describe(err) } }));
        }
        return;
      }
      case "subscribe": {
        const { id, topics, group, fromBeginning, keys } = f.value;
        const entry: SessionSub = {};
        this.subs.set(id, entry);
        try {
          entry.sub = await this.bus.subscribeBatches({ topics, group, fromBeginning, keys }, (records) =>
            this.deliver(id, entry, records),
          );
          this.send(encodeLinkFrame({ case: "done", value: { id } }));
        } catch (err) {
          this.subs.delete(id);
          this.send(encodeLinkFrame({ case: "done", value: { id, error: describe(err) } }));
        }
        return;
      }
      case "snapshot": {
        const { id, topic } = f.value;
        try {
          const records = (await this.bus.snapshot(topic)).map(toWire);
          this.send(encodeLinkFrame({ case: "done", value: { id, records } }));
        } catch (err) {
          this.send(encodeLinkFrame({ case: "done", value: { id, error: describe(err) } }));
        }
        return;
      }
      case "handled": {
        const entry = this.subs.get(f.value.subscription);
        const waiting = entry?.waiting;
        if (entry) entry.waiting = undefined;
        if (f.value.publish.length > 0) {
          try {
            await publishInOrder(this.bus, f.value.publish.map(outgoing));
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
        return;
      }
      default:
        this.send(encodeLinkFrame({ case: "done", value: { id: 0n, error: `unexpected frame ${f.case}` } }));
    }
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

export interface LinkBusOptions {
  /** ws://host:port/api/bus/ws */
  url: string;
  token: string;
  /** Reconnect delay bounds, ms. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onStateChange?: (connected: boolean, reason?: string) => void;
}

interface ClientSub {
  id: bigint;
  options: SubscribeOptions;
  handler: BatchHandler;
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

  constructor(private readonly options: LinkBusOptions) {
    this.backoff = options.minBackoffMs ?? 100;
  }

  async publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    const id = this.nextId++;
    const wire = records.map((r) => ({ topic, key: r.key, value: r.value, headers: r.headers ?? {} }));
    await this.request(id, { case: "publish", value: { id, records: wire } }, topic);
  }

  subscribe(options: SubscribeOptions, handler: RecordHandler): Promise<Subscription> {
    return this.subscribeBatches(options, oneByOne(handler));
  }

  async subscribeBatches(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const id = this.nextId++;
    const sub: ClientSub = { id, options, handler };
    this.subs.set(id, sub);
    try {
      await this.request(id, subscribeFrame(sub));
    } catch (err) {
      this.subs.delete(id);
      throw err;
    }
    return {
      close: async () => {
        this.subs.delete(id);
      },
    };
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

  private async request(id: bigint, frame: FrameInit, topic?: string): Promise<BusRecord[]> {
    const ws = await this.connect();
    return new Promise<BusRecord[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      ws.send(encodeLinkFrame(frame), (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(new BusError(`bus link send failed: ${describe(err)}`, { retriable: true, topic, cause: err }));
      });
    });
  }

  private connect(): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new BusError("bus closed", { retriable: false }));
    this.open ??= new Promise<WebSocket>((resolve, reject) => {
      // Agents sit next to the control plane: compression would only cost CPU.
      const ws = new WebSocket(this.options.url, [LINK_PROTOCOL, `bearer.${this.options.token}`], {
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
    return this.open;
  }

  private onClose(ws: WebSocket, reason: string): void {
    if (this.ws === ws || this.ws === undefined) {
      this.ws = undefined;
      this.open = undefined;
    }
    this.failPending(new BusError(`bus link closed: ${reason}`, { retriable: true }));
    if (this.closed) return;
    this.options.onStateChange?.(false, reason);
    setTimeout(() => void this.reconnect(), this.backoff).unref();
    this.backoff = Math.min(this.backoff * 2, this.options.maxBackoffMs ?? 2_000);
  }

  private async reconnect(): Promise<void> {
    if (this.closed || this.open) return;
    try {
      for (const sub of this.subs.values()) await this.request(sub.id, subscribeFrame(sub));
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
      const sub = this.subs.get(frame.value.subscription);
      const wire = frame.value.record ? [frame.value.record] : frame.value.records;
      let output: readonly TopicRecord[] = [];
      if (sub && wire.length > 0) {
        try {
          output = (await sub.handler(wire.map(fromWire))) ?? [];
        } catch (err) {
          process.emitWarning(`mevlab bus link: handler for ${wire[0].topic} failed: ${describe(err)}`);
        }
      }
      const last = wire[wire.length - 1];
      ws.send(
        encodeLinkFrame({
          case: "handled",
          value: {
            subscription: frame.value.subscription,
            offset: last?.offset ?? 0n,
            publish: output.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers ?? {} })),
          },
        }),
      );
    }
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
    },
  };
}
