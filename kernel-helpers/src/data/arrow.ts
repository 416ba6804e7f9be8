/**
 * Arrow IPC streams as ClickHouse sends them. apache-arrow (JS) refuses record batches with body
 * compression, and ClickHouse compresses them by default (LZ4 frame; ZSTD on request): this module
 * rewrites compressed batches into plain ones, message by message, and leaves everything else as it
 * came, so `apache-arrow` decodes the result without copies beyond the decompression itself.
 */
import {
  RecordBatch,
  RecordBatchReader,
  Table,
  tableFromIPC,
  type TypeMap,
  type DataType,
  type Field,
} from "apache-arrow";
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
import { initCodecs, lz4FrameDecompress, zstdFrameDecompress } from "./codecs";

/** What `readArrowStream` accepts: all the bytes at once, or chunks as they arrive (a Node stream, a fetch body). */
export type ArrowSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const CONTINUATION = 0xffffffff;
const EMPTY = new Uint8Array(0);
/** Largest single uncompressed buffer accepted (2 GiB - 1); a bigger claim is a corrupt header. */
const MAX_BUFFER = 0x7fffffffn;

/** Reads a whole Arrow IPC stream (compressed or not) into a Table. An empty source gives an empty Table. */
export async function readArrowStream<T extends TypeMap = TypeMap>(source: ArrowSource): Promise<Table<T>> {
  let bytes: Uint8Array;
  await initCodecs();
  if (source instanceof Uint8Array) {
    const pieces = rewriteAll(source);
    bytes = pieces ? concat(pieces) : source;
  } else {
    const pieces: Uint8Array[] = [];
    for await (const piece of decompressIpc(source)) pieces.push(piece);
    bytes = concat(pieces);
  }
  if (bytes.length === 0) return new Table<T>();
  try {
    return tableFromIPC<T>(bytes);
  } catch (err) {
    throw new DecodeError(`not a readable Arrow IPC stream: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads an Arrow IPC stream batch by batch, as the bytes arrive. */
export async function* readArrowBatches<T extends TypeMap = TypeMap>(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<RecordBatch<T>> {
  const stream = decompressIpc(source);
  const first = await stream.next();
  if (first.done) return;
  const reader = await RecordBatchReader.from<T>(prepend(first.value, stream));
  for await (const batch of reader) yield batch;
}

async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/** The same IPC stream with every compressed record / dictionary batch decompressed; other bytes pass through. */
export async function* decompressIpc(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  await initCodecs();
  const q = new ChunkQueue(source);
  for (;;) {
    if (!(await q.fill(4))) return;
    let prefix = 4;
    let metaLen = q.u32(0);
    if (metaLen === CONTINUATION) {
      if (!(await q.fill(8))) throw new DecodeError("Arrow stream ends inside a message prefix");
      metaLen = q.u32(4);
      prefix = 8;
    }
    if (metaLen === 0) {
      yield q.take(prefix);
      continue;
    }
    if (!(await q.fill(prefix + metaLen))) throw new DecodeError("Arrow stream ends inside a message header");
    const framing = q.take(prefix + metaLen);
    const meta = framing.subarray(prefix);
    const bodyLength = bodyLengthOf(meta);
    if (!(await q.fill(bodyLength))) throw new DecodeError("Arrow stream ends inside a message body");
    const body = q.take(bodyLength);
    const rewritten = rewriteMessage(meta, body);
    if (rewritten) for (const piece of rewritten) yield piece;
    else {
      yield framing;
      if (body.length) yield body;
    }
  }
}

/** The stream's messages with compressed batches rewritten; null when no batch was compressed. */
function rewriteAll(bytes: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let rewrote = false;
  walk(bytes, (start, meta, body, end) => {
    const plain = rewriteMessage(meta, body);
    rewrote ||= plain !== null;
    out.push(...(plain ?? [bytes.subarray(start, end)]));
  });
  return rewrote ? out : null;
}

/** The body compression of each record / dictionary batch in a complete stream: `lz4_frame`, `zstd` or `none`. */
export function batchCompression(bytes: Uint8Array): Array<"lz4_frame" | "zstd" | "none"> {
  const out: Array<"lz4_frame" | "zstd" | "none"> = [];
  walk(bytes, (_start, meta) => {
    if (!batchOf(messageOf(meta))) return;
    const c = compressionOf(meta);
    out.push(c === null ? "none" : c === CompressionType.ZSTD ? "zstd" : "lz4_frame");
  });
  return out;
}

/** Walks the messages of a complete stream in memory. */
function walk(
  bytes: Uint8Array,
  visit: (start: number, meta: Uint8Array, body: Uint8Array, end: number) => void,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  while (p + 4 <= bytes.length) {
    const start = p;
    let metaLen = view.getUint32(p, true);
    p += 4;
    if (metaLen === CONTINUATION) {
      if (p + 4 > bytes.length) throw new DecodeError("Arrow stream ends inside a message prefix");
      metaLen = view.getUint32(p, true);
      p += 4;
    }
    if (metaLen === 0) continue;
    if (p + metaLen > bytes.length) throw new DecodeError("Arrow stream ends inside a message header");
    const meta = bytes.subarray(p, p + metaLen);
    p += metaLen;
    const bodyLength = bodyLengthOf(meta);
    if (p + bodyLength > bytes.length) throw new DecodeError("Arrow stream ends inside a message body");
    const body = bytes.subarray(p, p + bodyLength);
    p += bodyLength;
    visit(start, meta, body, p);
  }
}

function messageOf(meta: Uint8Array): Message {
  try {
    return Message.getRootAsMessage(new flatbuffers.ByteBuffer(meta));
  } catch (err) {
    throw new DecodeError(`bad Arrow message header: ${(err as Error).message}`, { cause: err });
  }
}

function bodyLengthOf(meta: Uint8Array): number {
  const n = Number(messageOf(meta).bodyLength());
  if (!Number.isSafeInteger(n) || n < 0) throw new DecodeError(`bad Arrow message body length ${n}`);
  return n;
}

/** The record batch of a RecordBatch or DictionaryBatch message, if it is one. */
function batchOf(msg: Message): { batch: FbRecordBatch; dict?: FbDictionaryBatch } | null {
  const type = msg.headerType();
  if (type === MessageHeader.RecordBatch) return { batch: msg.header(new FbRecordBatch()) as FbRecordBatch };
  if (type === MessageHeader.DictionaryBatch) {
    const dict = msg.header(new FbDictionaryBatch()) as FbDictionaryBatch;
    const batch = dict.data();
    return batch ? { batch, dict } : null;
  }
  return null;
}

function compressionOf(meta: Uint8Array): CompressionType | null {
  const found = batchOf(messageOf(meta));
  const c = found?.batch.compression();
  return c ? c.codec() : null;
}

/** Rewrites one compressed batch message into framing + metadata + plain body; null when there is nothing to do. */
function rewriteMessage(meta: Uint8Array, body: Uint8Array): Uint8Array[] | null {
  const msg = messageOf(meta);
  const found = batchOf(msg);
  const compression = found?.batch.compression();
  if (!found || !compression) return null;
  const { batch, dict } = found;
  const codec = compression.codec();
  if (codec !== CompressionType.LZ4_FRAME && codec !== CompressionType.ZSTD) {
    throw new DecodeError(`unknown Arrow body compression codec ${codec}`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const n = batch.buffersLength();
  const regions: Array<{ offset: number; length: number }> = [];
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

  const b = new flatbuffers.Builder(1024);
  FbRecordBatch.startNodesVector(b, batch.nodesLength());
  for (let i = batch.nodesLength() - 1; i >= 0; i--) {
    const node = batch.nodes(i)!;
    FieldNode.createFieldNode(b, node.length(), node.nullCount());
  }
  const nodes = b.endVector();
  FbRecordBatch.startBuffersVector(b, n);
  for (let i = n - 1; i >= 0; i--) FbBuffer.createBuffer(b, BigInt(regions[i].offset), BigInt(regions[i].length));
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
  let custom = 0;
  if (msg.customMetadataLength() > 0) {
    const kvs: number[] = [];
    for (let i = 0; i < msg.customMetadataLength(); i++) {
      const kv = msg.customMetadata(i)!;
      kvs.push(KeyValue.createKeyValue(b, b.createString(kv.key() ?? ""), b.createString(kv.value() ?? "")));
    }
    custom = Message.createCustomMetadataVector(b, kvs);
  }
  Message.finishMessageBuffer(
    b,
    Message.createMessage(b, msg.version(), msg.headerType(), header, BigInt(size), custom),
  );
  const fb = b.asUint8Array();
  const metaLen = pad8(fb.length);
  const framing = new Uint8Array(8 + metaLen);
  const fv = new DataView(framing.buffer);
  fv.setUint32(0, CONTINUATION, true);
  fv.setUint32(4, metaLen, true);
  framing.set(fb, 8);
  return size > 0 ? [framing, newBody] : [framing];
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

function concat(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  let n = 0;
  for (const p of pieces) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Pulls chunks from a source on demand and hands out byte ranges, copying only when a range spans chunks. */
class ChunkQueue {
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  private size = 0;
  private done = false;

  constructor(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.it =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  /** True when `n` bytes are buffered; false when the source ended first (with 0 bytes left that is a clean end). */
  async fill(n: number): Promise<boolean> {
    while (this.size < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) {
        const chunk = r.value instanceof Uint8Array ? r.value : new Uint8Array(r.value as ArrayBufferLike);
        this.chunks.push(chunk);
        this.size += chunk.length;
      }
    }
    if (this.size >= n) return true;
    if (this.size === 0 && n > 0 && this.done) return false;
    if (this.done) throw new DecodeError(`Arrow stream ends early: ${this.size} bytes left, ${n} needed`);
    return false;
  }

  u32(at: number): number {
    const b = this.peek(at + 4);
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first.length - this.head >= n) return first.subarray(this.head);
    const merged = this.take(this.size);
    this.chunks = [merged];
    this.head = 0;
    this.size = merged.length;
    return merged;
  }

  take(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const first = this.chunks[0];
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      this.size -= n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      const k = Math.min(n - o, c.length - this.head);
      out.set(c.subarray(this.head, this.head + k), o);
      o += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.size -= n;
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Rows for display

export interface ToRowsOptions {
  /** Rows to convert, from the start (default: all). */
  limit?: number;
  /** 64-bit integers: `bigint` (default, always exact) or `number` where exact and bigint beyond 2^53. */
  int64?: "bigint" | "number";
}

/**
 * Plain objects for display: decimals become exact decimal strings, timestamps and dates become
 * `Date`s (the zone stays in the schema: `table.schema.fields[i].type.timezone`), UUIDs become their
 * canonical text, lists become arrays, structs objects, 64-bit integers BigInts.
 */
export function toRows(table: Table, options: ToRowsOptions = {}): Array<Record<string, unknown>> {
  const n = Math.min(table.numRows, options.limit ?? table.numRows);
  const fields = table.schema.fields;
  const columns = fields.map((f, i) => ({ name: f.name, vec: table.getChildAt(i)!, conv: converter(f, options) }));
  const rows: Array<Record<string, unknown>> = new Array(n);
  for (let r = 0; r < n; r++) {
    const row: Record<string, unknown> = {};
    for (const c of columns) {
      const v = c.vec.get(r);
      row[c.name] = v === null || v === undefined ? null : c.conv(v);
    }
    rows[r] = row;
  }
  return rows;
}

type Conv = (v: unknown) => unknown;
const identity: Conv = (v) => v;

function converter(field: Field, options: ToRowsOptions): Conv {
  return convertType(field.type, field.metadata.get("ARROW:extension:name"), options);
}

function convertType(type: DataType, extension: string | undefined, options: ToRowsOptions): Conv {
  const t = type as DataType & {
    typeId: number;
    scale?: number;
    bitWidth?: number;
    isSigned?: boolean;
    unit?: number;
    byteWidth?: number;
    children?: Field[];
    dictionary?: DataType;
  };
  const name = type.toString();
  if (name.startsWith("Decimal")) {
    const scale = t.scale ?? 0;
    return (v) => decimalText(v as Uint32Array, scale);
  }
  if (name.startsWith("Timestamp") || name.startsWith("Date")) return (v) => new Date(v as number);
  if (
    extension === "arrow.uuid" ||
    (name.startsWith("FixedSizeBinary") && t.byteWidth === 16 && extension === "uuid")
  ) {
    return (v) => uuidText(v as Uint8Array);
  }
  if (t.bitWidth === 64 && (name.startsWith("Int") || name.startsWith("Uint"))) {
    if (options.int64 === "number") {
      return (v) => {
        const b = v as bigint;
        return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
      };
    }
    return identity;
  }
  if (name.startsWith("Dictionary") && t.dictionary) return convertType(t.dictionary, undefined, options);
  if ((name.startsWith("List") || name.startsWith("FixedSizeList")) && t.children?.length) {
    const child = converter(t.children[0], options);
    return (v) => {
      const out: unknown[] = [];
      for (const x of v as Iterable<unknown>) out.push(x === null || x === undefined ? null : child(x));
      return out;
    };
  }
  if (name.startsWith("Struct") && t.children) {
    const parts = t.children.map((f) => ({ name: f.name, conv: converter(f, options) }));
    return (v) => {
      const row = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const p of parts) {
        const x = row[p.name];
        out[p.name] = x === null || x === undefined ? null : p.conv(x);
      }
      return out;
    };
  }
  if (name.startsWith("Map")) {
    return (v) => {
      const out: Record<string, unknown> = {};
      for (const [k, x] of v as Iterable<[unknown, unknown]>) out[String(k)] = x;
      return out;
    };
  }
  return identity;
}

/** The exact decimal text of a little-endian two's-complement integer (32-bit words) with `scale` digits. */
export function decimalText(words: Uint32Array, scale: number): string {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i]);
  const bits = BigInt(words.length * 32);
  if (words[words.length - 1] & 0x80000000) v -= 1n << bits;
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

function uuidText(b: Uint8Array): string {
  let h = "";
  for (let i = 0; i < 16; i++) h += b[i].toString(16).padStart(2, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
