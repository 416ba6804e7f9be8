/**
 * One Arrow IPC message at a time: reading its flatbuffer header (body length, batch, body compression)
 * and rewriting a compressed record / dictionary batch into framing + metadata + plain body.
 */
import * as flatbuffers from "flatbuffers";
import { Message } from "apache-arrow/fb/message";
import { MessageHeader } from "apache-arrow/fb/message-header";
import { RecordBatch as FbRecordBatch } from "apache-arrow/fb/record-batch";
import { DictionaryBatch as FbDictionaryBatch } from "apache-arrow/fb/dictionary-batch";
import { FieldNode } from "apache-arrow/fb/field-node";
import { Buffer as FbBuffer } from "apache-arrow/fb/buffer";
import { KeyValue } from "apache-arrow/fb/key-value";
import { CompressionType } from "apache-arrow/fb/compression-type";
import { DecodeError } from "../errors";
import { lz4FrameDecompress, zstdFrameDecompress } from "./codecs";

export const CONTINUATION = 0xffffffff;
export const EMPTY = new Uint8Array(0);
/** Largest single uncompressed buffer accepted (2 GiB - 1); a bigger claim is a corrupt header. */
const MAX_BUFFER = 0x7fffffffn;

type Region = { offset: number; length: number };
type FoundBatch = { batch: FbRecordBatch; dict?: FbDictionaryBatch };

export function messageOf(meta: Uint8Array): Message {
  try {
    return Message.getRootAsMessage(new flatbuffers.ByteBuffer(meta));
  } catch (err) {
    throw new DecodeError(`bad Arrow message header: ${(err as Error).message}`, { cause: err });
  }
}

export function bodyLengthOf(meta: Uint8Array): number {
  const n = Number(messageOf(meta).bodyLength());
  if (!Number.isSafeInteger(n) || n < 0) throw new DecodeError(`bad Arrow message body length ${n}`);
  return n;
}

/** The record batch of a RecordBatch or DictionaryBatch message, if it is one. */
export function batchOf(msg: Message): FoundBatch | null {
  const type = msg.headerType();
  if (type === MessageHeader.RecordBatch) return { batch: msg.header(new FbRecordBatch()) as FbRecordBatch };
  if (type === MessageHeader.DictionaryBatch) {
    const dict = msg.header(new FbDictionaryBatch()) as FbDictionaryBatch;
    const batch = dict.data();
    return batch ? { batch, dict } : null;
  }
  return null;
}

export function compressionOf(meta: Uint8Array): CompressionType | null {
  const found = batchOf(messageOf(meta));
  const c = found?.batch.compression();
  return c ? c.codec() : null;
}

/** Rewrites one compressed batch message into framing + metadata + plain body; null when there is nothing to do. */
export function rewriteMessage(meta: Uint8Array, body: Uint8Array): Uint8Array[] | null {
  const msg = messageOf(meta);
  const found = batchOf(msg);
  const compression = found?.batch.compression();
  if (!found || !compression) return null;
  const codec = compression.codec();
  if (codec !== CompressionType.LZ4_FRAME && codec !== CompressionType.ZSTD) {
    throw new DecodeError(`unknown Arrow body compression codec ${codec}`);
  }
  const plain = decompressBody(found.batch, body, codec);
  const framing = frame(plainHeader(msg, found, plain.regions, plain.body.length));
  return plain.body.length > 0 ? [framing, plain.body] : [framing];
}

/** Every buffer of a batch's body decompressed (or kept, when stored plain) into a new body, 8-byte aligned. */
function decompressBody(
  batch: FbRecordBatch,
  body: Uint8Array,
  codec: CompressionType,
): { body: Uint8Array; regions: Region[] } {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const n = batch.buffersLength();
  const regions: Region[] = [];
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; i < n; i++) {
    const b = batch.buffers(i)!;
    const offset = Number(b.offset());
    const length = Number(b.length());
    let plain = EMPTY;
    if (length > 0) {
      if (offset + length > body.length || length < 8) throw new DecodeError(`Arrow buffer ${i} lies outside its body`);
      const raw = view.getBigInt64(offset, true);
      const data = body.subarray(offset + 8, offset + length);
      if (raw === -1n) plain = data;
      else if (raw < 0n || raw > MAX_BUFFER) {
        throw new DecodeError(`Arrow buffer ${i} claims ${raw} uncompressed bytes`);
      } else {
        plain = new Uint8Array(Number(raw));
        if (codec === CompressionType.LZ4_FRAME) lz4FrameDecompress(data, plain);
        else zstdFrameDecompress(data, plain);
      }
    }
    regions.push({ offset: size, length: plain.length });
    parts.push(plain);
    size += pad8(plain.length);
  }
  const newBody = new Uint8Array(size);
  for (let i = 0; i < n; i++) newBody.set(parts[i], regions[i].offset);
  return { body: newBody, regions };
}

/** The message's flatbuffer again, without body compression and with the buffers at their new places. */
function plainHeader(msg: Message, found: FoundBatch, regions: Region[], bodySize: number): Uint8Array {
  const { batch, dict } = found;
  const b = new flatbuffers.Builder(1024);
  FbRecordBatch.startNodesVector(b, batch.nodesLength());
  for (let i = batch.nodesLength() - 1; i >= 0; i--) {
    const node = batch.nodes(i)!;
    FieldNode.createFieldNode(b, node.length(), node.nullCount());
  }
  const nodes = b.endVector();
  FbRecordBatch.startBuffersVector(b, regions.length);
  for (let i = regions.length - 1; i >= 0; i--) {
    FbBuffer.createBuffer(b, BigInt(regions[i].offset), BigInt(regions[i].length));
  }
  const buffers = b.endVector();
  FbRecordBatch.startRecordBatch(b);
  FbRecordBatch.addLength(b, batch.length());
  FbRecordBatch.addNodes(b, nodes);
  FbRecordBatch.addBuffers(b, buffers);
  let header = FbRecordBatch.endRecordBatch(b);
  if (dict) {
    FbDictionaryBatch.startDictionaryBatch(b);
    FbDictionaryBatch.addId(b, dict.id());
    FbDictionaryBatch.addData(b, header);
    FbDictionaryBatch.addIsDelta(b, dict.isDelta());
    header = FbDictionaryBatch.endDictionaryBatch(b);
  }
  const custom = copyCustomMetadata(b, msg);
  Message.finishMessageBuffer(
    b,
    Message.createMessage(b, msg.version(), msg.headerType(), header, BigInt(bodySize), custom),
  );
  return b.asUint8Array();
}

/** The message's custom metadata written into `b`; 0 (no vector) when it has none. */
function copyCustomMetadata(b: flatbuffers.Builder, msg: Message): number {
  if (msg.customMetadataLength() === 0) return 0;
  const kvs: number[] = [];
  for (let i = 0; i < msg.customMetadataLength(); i++) {
    const kv = msg.customMetadata(i)!;
    kvs.push(KeyValue.createKeyValue(b, b.createString(kv.key() ?? ""), b.createString(kv.value() ?? "")));
  }
  return Message.createCustomMetadataVector(b, kvs);
}

/** Continuation marker, padded metadata length and the metadata itself. */
function frame(fb: Uint8Array): Uint8Array {
  const metaLen = pad8(fb.length);
  const framing = new Uint8Array(8 + metaLen);
  const fv = new DataView(framing.buffer);
  fv.setUint32(0, CONTINUATION, true);
  fv.setUint32(4, metaLen, true);
  framing.set(fb, 8);
  return framing;
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}
