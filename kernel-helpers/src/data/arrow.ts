/**
 * Arrow IPC streams as ClickHouse sends them. apache-arrow (JS) refuses record batches with body
 * compression, and ClickHouse compresses them by default (LZ4 frame; ZSTD on request): this module
 * rewrites compressed batches into plain ones, message by message, and leaves everything else as it
 * came, so `apache-arrow` decodes the result without copies beyond the decompression itself.
 */
import { RecordBatchReader, Table, tableFromIPC, type RecordBatch, type TypeMap } from "apache-arrow";
import { CompressionType } from "apache-arrow/fb/compression-type";
import { DecodeError } from "../errors";
import { ChunkQueue } from "./chunk-queue";
import { initCodecs } from "./codecs";
import { batchOf, bodyLengthOf, compressionOf, CONTINUATION, messageOf, rewriteMessage } from "./arrow-message";

export { toRows, decimalText, type ToRowsOptions } from "./arrow-rows";

/** What `readArrowStream` accepts: all the bytes at once, or chunks as they arrive (a Node stream, a fetch body). */
export type ArrowSource = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

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
