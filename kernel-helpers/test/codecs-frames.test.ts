// The Arrow body codecs on tiny hand-made frames: LZ4 frames (header flags, skippable frames, stored and
// compressed blocks, overlapping matches) and every DecodeError; ZSTD raw and RLE blocks through the
// pure-JS decoder and then the WebAssembly one. The chDB test covers real ClickHouse output end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../src/errors";
import { initCodecs, lz4FrameDecompress, zstdFrameDecompress } from "../src/data/codecs";

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const ascii = (s: string) => [...Buffer.from(s, "latin1")];
const MAGIC = u32(0x184d2204);

/** An LZ4 frame: FLG (version 1 plus `flags`), BD (64 KiB blocks), header checksum (not verified), blocks. */
function frame(blocks: number[][], flags = 0, bd = 0x40): Uint8Array {
  const contentSize = flags & 0x08 ? [5, 0, 0, 0, 0, 0, 0, 0] : [];
  const body = blocks.flatMap((b) => [...b, ...(flags & 0x10 ? [0xde, 0xad, 0xbe, 0xef] : [])]);
  const tail = flags & 0x04 ? [1, 2, 3, 4] : [];
  return new Uint8Array([...MAGIC, 0x40 | flags, bd, 0x99, ...contentSize, ...body, ...u32(0), ...tail]);
}
const stored = (s: string) => [...u32(0x80000000 | s.length), ...ascii(s)];
const compressed = (bytes: number[]) => [...u32(bytes.length), ...bytes];

function lz4(src: Uint8Array, size: number): string {
  const out = new Uint8Array(size);
  lz4FrameDecompress(src, out);
  return Buffer.from(out).toString("latin1");
}

function lz4Refused(src: Uint8Array, size: number, message: RegExp): void {
  assert.throws(
    () => lz4FrameDecompress(src, new Uint8Array(size)),
    (err: unknown) => err instanceof DecodeError && message.test(err.message),
    message.source,
  );
}

test("LZ4: a stored block, with or without content size and checksums", () => {
  assert.equal(lz4(frame([stored("hello")]), 5), "hello");
  assert.equal(lz4(frame([stored("hello")], 0x08 | 0x10 | 0x04), 5), "hello");
  assert.equal(lz4(frame([stored("hel"), stored("lo")], 0x20), 5), "hello");
  assert.equal(lz4(frame([]), 0), "");
  assert.equal(lz4(new Uint8Array(0), 0), "");
});

test("LZ4: compressed blocks: literals, matches, overlapping matches, long runs", () => {
  // 3 literals, then a match of 6 at offset 3
  assert.equal(lz4(frame([compressed([0x32, ...ascii("abc"), 3, 0])]), 9), "abcabcabc");
  // one literal repeated by an overlapping match of 7 at offset 1, then 2 trailing literals
  assert.equal(lz4(frame([compressed([0x13, ...ascii("a"), 1, 0, 0x20, ...ascii("bc")])]), 10), "aaaaaaaabc");
  // a literal run of 15 + 5 = 20
  const twenty = "abcdefghijklmnopqrst";
  assert.equal(lz4(frame([compressed([0xf0, 5, ...ascii(twenty)])]), 20), twenty);
  // 40 literals (15 + 25), then a match of 4 + 15 + 17 = 36 at offset 40 (a non-overlapping copy)
  const forty = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
  const long = compressed([0xff, 25, ...ascii(forty), 40, 0, 17]);
  assert.equal(lz4(frame([long]), 76), forty + forty.slice(0, 36));
  // a long overlapping match: 2 literals, a match of 4 + 15 + 21 = 40 at offset 2
  assert.equal(lz4(frame([compressed([0x2f, ...ascii("xy"), 2, 0, 21])]), 42), "xy".repeat(21));
});

test("LZ4: skippable frames are skipped and frames follow one another", () => {
  const skippable = [...u32(0x184d2a5f), ...u32(3), 7, 7, 7];
  const src = new Uint8Array([...skippable, ...frame([stored("ab")]), ...skippable, ...frame([stored("cd")])]);
  assert.equal(lz4(src, 4), "abcd");
});

test("LZ4: bad headers are refused", () => {
  lz4Refused(new Uint8Array([1, 2, 3, 4, 0, 0, 0]), 0, /^LZ4: bad frame magic 0x4030201 at byte 0$/);
  const second = new Uint8Array([...frame([stored("ab")]), 0, 0, 0, 0]);
  lz4Refused(second, 2, /^LZ4: bad frame magic 0x0 at byte 17$/);
  lz4Refused(new Uint8Array([...MAGIC, 0x80, 0x40, 0, ...u32(0)]), 0, /^LZ4: frame version 2 is not 1$/);
  lz4Refused(new Uint8Array([...MAGIC, 0x00, 0x40, 0, ...u32(0)]), 0, /^LZ4: frame version 0 is not 1$/);
  lz4Refused(frame([], 0x01), 0, /^LZ4: frames with a dictionary id are not supported$/);
  for (const code of [0, 1, 2, 3]) {
    lz4Refused(frame([], 0, code << 4), 0, new RegExp(`^LZ4: bad block size code ${code}$`));
  }
  for (const code of [4, 5, 6, 7]) assert.equal(lz4(frame([stored("a")], 0, code << 4), 1), "a");
});

test("LZ4: truncated frames and sizes that do not match are refused", () => {
  const whole = frame([stored("hello")]);
  lz4Refused(whole.subarray(0, whole.length - 4), 5, /^LZ4: frame ends inside a block header$/);
  lz4Refused(whole.subarray(0, 13), 5, /^LZ4: block runs past the end of the buffer$/);
  lz4Refused(whole, 4, /^LZ4: output larger than announced$/);
  lz4Refused(whole, 6, /^LZ4: got 5 bytes, expected 6$/);
  lz4Refused(frame([compressed([0x32, ...ascii("abc"), 3, 0])]), 10, /^LZ4: got 9 bytes, expected 10$/);
});

test("LZ4: matches and literals out of bounds are refused", () => {
  lz4Refused(frame([compressed([0x32, ...ascii("abc"), 0, 0])]), 9, /^LZ4: match out of bounds$/); // offset 0
  lz4Refused(frame([compressed([0x32, ...ascii("abc"), 4, 0])]), 9, /^LZ4: match out of bounds$/); // before the start
  lz4Refused(frame([compressed([0x32, ...ascii("abc"), 3, 0])]), 8, /^LZ4: match out of bounds$/); // past the end
  lz4Refused(frame([compressed([0x50, ...ascii("abc")])]), 5, /^LZ4: literal run out of bounds$/); // runs past the block
  lz4Refused(frame([compressed([0x30, ...ascii("abc")])]), 2, /^LZ4: literal run out of bounds$/); // past the output
});

/** A ZSTD frame, single segment, 1-byte content size, no checksum, with one last block. */
function zstdFrame(block: number[], type: 0 | 1, size: number): Uint8Array {
  const header = 1 | (type << 1) | (size << 3);
  return new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0x20, size, header & 0xff, (header >> 8) & 0xff, 0, ...block]);
}
const raw = zstdFrame(ascii("hello"), 0, 5);
const rle = zstdFrame(ascii("z"), 1, 7);

/** What both ZSTD decoders agree on; `zstdFrameDecompress` uses the WebAssembly one once it is loaded. */
function zstdCases(): void {
  const out = new Uint8Array(5);
  zstdFrameDecompress(raw, out);
  assert.equal(Buffer.from(out).toString(), "hello");
  const z = new Uint8Array(7);
  zstdFrameDecompress(rle, z);
  assert.equal(Buffer.from(z).toString(), "zzzzzzz");
  const cases: Array<[Uint8Array, number]> = [
    [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 5], // not a ZSTD frame
    [raw.subarray(0, 8), 5], // the block cut off
    [raw.subarray(0, raw.length - 1), 5],
    [raw, 4], // an output smaller than the frame's content
  ];
  for (const [src, size] of cases) {
    assert.throws(
      () => zstdFrameDecompress(src, new Uint8Array(size)),
      (err: unknown) => err instanceof DecodeError && /^ZSTD: /.test(err.message),
      `${src.length} bytes into ${size}`,
    );
  }
}

test("ZSTD with the pure-JS decoder: raw and RLE blocks; garbage, truncation and a short output refused", () => {
  zstdCases();
});

test("ZSTD with the WebAssembly decoder: the same answers, and the size is checked both ways", async () => {
  await initCodecs();
  zstdCases();
  for (const size of [4, 6]) {
    assert.throws(
      () => zstdFrameDecompress(raw, new Uint8Array(size)),
      (err: unknown) => err instanceof DecodeError && err.message === `ZSTD: got 5 bytes, expected ${size}`,
    );
  }
});
