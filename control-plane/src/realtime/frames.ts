// The realtime hub's wire pieces: batching constants, the tags of the frames assembled by hand,
// events kept with their encodings.
import { fromBinary, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import {
  BatchSchema,
  EventSchema,
  Format,
  Module,
  ServerFrameSchema,
  Stream,
  toWireJson,
  type Event,
} from "@mevlab/proto";
import type { EventMeta } from "./hub";

export const MAX_BATCH = 512;
/** Opportunity-like events may be dropped for a slow client; everything else is only coalesced. */
export const DROPPABLE = new Set<Stream>([Stream.arb_opportunity, Stream.mev_opportunity, Stream.bundle_outcome]);
export const BATCH_OPEN = Buffer.from('{"schema_version":1,"batch":{"events":[');
export const COMMA = Buffer.from(",");
export const BATCH_CLOSE = Buffer.from("]}}\n");
/** Streams the control loop waits on: flushed at once rather than after flushMs. */
export const URGENT = new Set<Stream>([Stream.control_ack, Stream.control_request]);

/** A field's number, from the generated descriptor; a field the .proto no longer has fails at load. */
export function fieldNumber(schema: DescMessage, localName: string): number {
  const field: DescField | undefined = schema.field[localName];
  if (!field) throw new Error(`${schema.typeName} has no field ${localName}`);
  return field.number;
}

export const VARINT = 0;
export const LEN = 2;
export const tag = (schema: DescMessage, localName: string, wireType: number): number =>
  (fieldNumber(schema, localName) << 3) | wireType;
/** The tags of the frames assembled by hand below (sendBatch, rawEvent), once at load. */
export const TAG = {
  frameSchemaVersion: tag(ServerFrameSchema, "schemaVersion", VARINT),
  frameBatch: tag(ServerFrameSchema, "batch", LEN),
  batchEvents: tag(BatchSchema, "events", LEN),
  eventStream: tag(EventSchema, "stream", VARINT),
  eventSeq: tag(EventSchema, "seq", VARINT),
};

/**
 * One published event, encoded at most once per format whatever the number of clients. Once every
 * client has been offered it, `settle()` keeps only its encodings: the replay buffer then holds bytes
 * (off the V8 heap) rather than a tree of message objects that every young-generation GC would copy.
 */
export class Entry {
  private bin?: Uint8Array;
  /** UTF-8 bytes rather than a string: they live as long as the replay buffer keeps the entry. */
  private json?: Buffer;
  private message?: Event;
  readonly stream: Stream;
  readonly seq: bigint;

  constructor(
    event: Event,
    readonly module: Module,
    readonly meta: EventMeta,
  ) {
    this.message = event;
    this.stream = event.stream;
    this.seq = event.seq;
  }

  /** The event as a message (decoded again from its bytes after `settle()`; rare: resumes only). */
  get event(): Event {
    return this.message ?? fromBinary(EventSchema, this.bin!);
  }

  binary(): Uint8Array {
    return (this.bin ??= this.meta.raw ? rawEvent(this.event, this.meta.raw) : toBinary(EventSchema, this.event));
  }

  /** The event's NDJSON form (its proto3 JSON mapping), as UTF-8. */
  text(): Buffer {
    return (this.json ??= Buffer.from(JSON.stringify(toWireJson(EventSchema, this.event))));
  }

  /**
   * Drops the message objects (and the reference into the bus's receive buffer), keeping the bytes,
   * where the bytes exist already or cost nothing to make (raw bus bytes: every high-rate stream).
   * Other events (control, status) keep their message and are encoded when a client first needs it.
   */
  settle(): void {
    if (this.bin === undefined && this.meta.raw === undefined) return;
    this.binary();
    this.message = undefined;
    this.meta.raw = undefined;
  }

  size(format: Format): number {
    return format === Format.protobuf ? this.binary().length + 3 : this.text().length + 1;
  }
}

/** Event{stream, seq, payload field = raw bytes}: the bytes toBinary gives for the same event. */
export function rawEvent(event: Event, raw: { field: number; bytes: Uint8Array }): Uint8Array {
  const seq = event.seq;
  const seqBytes: number[] = [];
  let v = seq;
  while (v >= 0x80n) {
    seqBytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  seqBytes.push(Number(v));
  const len = raw.bytes.length;
  const payloadTag = (raw.field << 3) | LEN;
  const out = new Uint8Array(
    varintSize(TAG.eventStream) +
      varintSize(event.stream) +
      varintSize(TAG.eventSeq) +
      seqBytes.length +
      varintSize(payloadTag) +
      varintSize(len) +
      len,
  );
  let o = writeVarint(out, 0, TAG.eventStream);
  o = writeVarint(out, o, event.stream); // enum values are not negative
  o = writeVarint(out, o, TAG.eventSeq);
  for (const b of seqBytes) out[o++] = b;
  o = writeVarint(out, o, payloadTag);
  o = writeVarint(out, o, len);
  out.set(raw.bytes, o);
  return out;
}

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size += 1;
  }
  return size;
}

export function writeVarint(out: Uint8Array, o: number, n: number): number {
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[o++] = n;
  return o;
}
