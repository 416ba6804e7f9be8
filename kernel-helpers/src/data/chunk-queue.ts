/** The byte queue that `decompressIpc` reads Arrow IPC messages from, as the chunks of a source arrive. */
import { DecodeError } from "../errors";
import { EMPTY } from "./arrow-message";

/** Pulls chunks from a source on demand and hands out byte ranges, copying only when a range spans chunks. */
export class ChunkQueue {
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
