import { decompress as zstdDecompress } from "fzstd";
import { DecodeError } from "../errors";

const LZ4_FRAME_MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

/**
 * Decodes one LZ4 frame (the format of Arrow's LZ4_FRAME codec) into `out`, which must be exactly the
 * uncompressed size. Block and content checksums are skipped, not verified; the output length is.
 */
export function lz4FrameDecompress(src: Uint8Array, out: Uint8Array): void {
  let s = 0;
  let d = 0;
  while (s < src.length) {
    const magic = readU32(src, s);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      s += 8 + readU32(src, s + 4); // skippable frame
      continue;
    }
    if (magic !== LZ4_FRAME_MAGIC) throw new DecodeError(`LZ4: bad frame magic 0x${magic.toString(16)} at byte ${s}`);
    const flg = src[s + 4];
    const bd = src[s + 5];
    if (flg >> 6 !== 1) throw new DecodeError(`LZ4: frame version ${flg >> 6} is not 1`);
    if (flg & 0x01) throw new DecodeError("LZ4: frames with a dictionary id are not supported");
    const blockSum = (flg & 0x10) !== 0;
    const contentSum = (flg & 0x04) !== 0;
    const maxBlock = BLOCK_MAX[(bd >> 4) & 7];
    if (!maxBlock) throw new DecodeError(`LZ4: bad block size code ${(bd >> 4) & 7}`);
    s += 6 + (flg & 0x08 ? 8 : 0) + 1; // descriptor, content size, header checksum
    for (;;) {
      if (s + 4 > src.length) throw new DecodeError("LZ4: frame ends inside a block header");
      const word = readU32(src, s);
      s += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (s + size > src.length) throw new DecodeError("LZ4: block runs past the end of the buffer");
      if (word & 0x80000000) {
        if (d + size > out.length) throw new DecodeError("LZ4: output larger than announced");
        out.set(src.subarray(s, s + size), d);
        d += size;
      } else {
        d = lz4Block(src, s, s + size, out, d);
      }
      s += size + (blockSum ? 4 : 0);
    }
    if (contentSum) s += 4;
  }
  if (d !== out.length) throw new DecodeError(`LZ4: got ${d} bytes, expected ${out.length}`);
}

function lz4Block(src: Uint8Array, s: number, end: number, out: Uint8Array, d: number): number {
  const cap = out.length;
  while (s < end) {
    const token = src[s++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        b = src[s++];
        lit += b;
      } while (b === 255 && s < end);
    }
    if (lit > 0) {
      if (s + lit > end || d + lit > cap) throw new DecodeError("LZ4: literal run out of bounds");
      if (lit < 16) for (let i = 0; i < lit; i++) out[d++] = src[s++];
      else {
        out.set(src.subarray(s, s + lit), d);
        s += lit;
        d += lit;
      }
    }
    if (s >= end) break;
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    let len = token & 15;
    if (len === 15) {
      let b: number;
      do {
        b = src[s++];
        len += b;
      } while (b === 255 && s < end);
    }
    len += 4;
    let from = d - offset;
    if (offset === 0 || from < 0 || d + len > cap) throw new DecodeError("LZ4: match out of bounds");
    if (offset >= len && len > 32) {
      out.copyWithin(d, from, from + len);
      d += len;
    } else {
      for (const stop = d + len; d < stop;) out[d++] = out[from++];
    }
  }
  return d;
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

type ZstdWasm = { init(): Promise<void>; decompress(buf: Uint8Array): Uint8Array };
let zstdWasm: ZstdWasm | undefined;
let zstdInit: Promise<void> | undefined;

/**
 * Loads the ZSTD decoder compiled to WebAssembly (about 15× faster than the pure-JS one, which stays
 * as the fallback for callers that skip this). The Arrow readers call it before they start.
 */
export function initCodecs(): Promise<void> {
  zstdInit ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const z = require("@bokuweb/zstd-wasm") as ZstdWasm;
    await z.init();
    zstdWasm = z;
  })();
  return zstdInit;
}

/** Decodes a ZSTD frame into `out` (exactly the uncompressed size). */
export function zstdFrameDecompress(src: Uint8Array, out: Uint8Array): void {
  let got: Uint8Array;
  try {
    got = zstdWasm ? zstdWasm.decompress(src) : zstdDecompress(src, out);
  } catch (err) {
    throw new DecodeError(`ZSTD: ${(err as Error).message}`, { cause: err });
  }
  if (got.length !== out.length) throw new DecodeError(`ZSTD: got ${got.length} bytes, expected ${out.length}`);
  if (got.buffer !== out.buffer || got.byteOffset !== out.byteOffset) out.set(got);
}
