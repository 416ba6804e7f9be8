import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { BusRecordSchema, LinkFrameSchema, type BusRecord as WireRecord, type LinkFrame } from "@mevlab/proto";
import { BusError } from "../errors";
import type { BusRecord, TopicRecord } from "./bus";

export type FrameInit = MessageInitShape<typeof LinkFrameSchema>["frame"];

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

export function toWire(r: BusRecord): MessageInitShape<typeof BusRecordSchema> {
  return {
    topic: r.topic,
    key: r.key,
    value: r.value,
    headers: r.headers,
    offset: BigInt(r.offset),
    timestamp: BigInt(r.timestamp),
  };
}

export function outgoing(r: WireRecord): TopicRecord {
  return { topic: r.topic, key: r.key, value: r.value, headers: { ...r.headers } };
}

export function fromWire(r: WireRecord): BusRecord {
  return {
    topic: r.topic,
    key: r.key,
    value: r.value,
    headers: { ...r.headers },
    offset: r.offset.toString(),
    timestamp: Number(r.timestamp),
  };
}

/**
 * What a publish or handled frame holds besides its records, at most: the schema version (2 bytes),
 * the frame's tag and length (6), and up to two 64-bit ids (11 each), with room to spare.
 */
const FRAME_OVERHEAD_BYTES = 64;

/** A record encoded once, with the topic it is for (for the error that names it). */
export interface EncodedRecord {
  topic: string;
  bytes: Uint8Array;
}

export function encodeOutgoing(r: TopicRecord): EncodedRecord {
  const wire = create(BusRecordSchema, { topic: r.topic, key: r.key, value: r.value, headers: r.headers ?? {} });
  return { topic: r.topic, bytes: toBinary(BusRecordSchema, wire) };
}

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

/** What a record adds to a frame: its field tag, its length and its bytes. */
function fieldBytes(r: EncodedRecord): number {
  return 1 + varintBytes(r.bytes.length) + r.bytes.length;
}

/** The link cannot carry this record in any frame: not retriable, it will never fit. */
export function recordTooBig(r: EncodedRecord, maxFrameBytes: number): BusError {
  return new BusError(
    `a record of ${r.bytes.length} bytes on topic '${r.topic}' does not fit in a bus link frame ` +
      `(at most ${maxFrameBytes} bytes, ${FRAME_OVERHEAD_BYTES} of them for the frame itself)`,
    { retriable: false, topic: r.topic },
  );
}

/** Whether `records` fit in one frame of at most `maxFrameBytes`. */
export function fitsOneFrame(records: readonly EncodedRecord[], maxFrameBytes: number): boolean {
  let total = FRAME_OVERHEAD_BYTES;
  for (const r of records) total += fieldBytes(r);
  return total <= maxFrameBytes;
}

/**
 * Splits records, in order, into runs that each fit one frame of at most `maxFrameBytes`. Throws
 * (before anything is sent) when a single record cannot fit in any frame.
 */
export function splitIntoFrames(records: readonly EncodedRecord[], maxFrameBytes: number): EncodedRecord[][] {
  const budget = maxFrameBytes - FRAME_OVERHEAD_BYTES;
  const runs: EncodedRecord[][] = [];
  let run: EncodedRecord[] = [];
  let used = 0;
  for (const r of records) {
    const size = fieldBytes(r);
    if (size > budget) throw recordTooBig(r, maxFrameBytes);
    if (used + size > budget && run.length > 0) {
      runs.push(run);
      run = [];
      used = 0;
    }
    run.push(r);
    used += size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/** `LinkFrame{schema_version: 1, publish: {id, records}}` written around the records' encodings. */
export function encodePublishFrame(id: bigint, records: readonly EncodedRecord[]): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint32(1);
  w.tag(3, WireType.LengthDelimited).fork();
  if (id !== 0n) w.tag(1, WireType.Varint).uint64(id);
  for (const r of records) w.tag(2, WireType.LengthDelimited).bytes(r.bytes);
  w.join();
  return w.finish();
}

/** `LinkFrame{schema_version: 1, handled: {subscription, offset, publish}}` around the records' encodings. */
export function encodeHandledFrame(
  subscription: bigint,
  offset: bigint,
  publish: readonly EncodedRecord[],
): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint32(1);
  w.tag(6, WireType.LengthDelimited).fork();
  if (subscription !== 0n) w.tag(1, WireType.Varint).uint64(subscription);
  if (offset !== 0n) w.tag(2, WireType.Varint).uint64(offset);
  for (const r of publish) w.tag(3, WireType.LengthDelimited).bytes(r.bytes);
  w.join();
  return w.finish();
}
