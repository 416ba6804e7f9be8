const LONG = 255;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Short strings (ids, signatures, public keys) as UTF-8 bytes in one buffer rather than one string
 * each: a string the browser's TextDecoder made (protobuf-es decodes with it) is an external string
 * with a weak handle, and 100,000 of them alive made major GCs of 50–140 ms (long tasks) at 5,000
 * events/s. A string longer than `width` bytes is kept as a string.
 */
export class ByteColumn {
  private readonly bytes: Uint8Array;
  private readonly lengths: Uint8Array;
  private readonly long = new Map<number, string>();

  constructor(
    capacity: number,
    private readonly width: number,
  ) {
    this.bytes = new Uint8Array(capacity * width);
    this.lengths = new Uint8Array(capacity);
  }

  set(i: number, text: string): void {
    if (this.long.size > 0) this.long.delete(i);
    const w = this.width;
    const { read = 0, written = 0 } = utf8.encodeInto(text, this.bytes.subarray(i * w, (i + 1) * w));
    this.lengths[i] = read === text.length ? written : LONG;
    if (read !== text.length) this.long.set(i, text);
  }

  get(i: number): string {
    const n = this.lengths[i];
    const w = this.width;
    return n === LONG ? (this.long.get(i) ?? "") : fromUtf8.decode(this.bytes.subarray(i * w, i * w + n));
  }

  copy(from: ByteColumn, src: number, dst: number): void {
    const w = this.width;
    this.bytes.set(from.bytes.subarray(src * w, (src + 1) * w), dst * w);
    this.lengths[dst] = from.lengths[src];
    const long = from.long.get(src);
    if (long !== undefined) this.long.set(dst, long);
  }
}

/** Distinct strings of a column with few values (routes, pools, DEXes, agents): one copy each. */
export class Interned {
  private readonly known = new Map<string, string>();

  constructor(private readonly max = 4096) {}

  get(text: string): string {
    const known = this.known.get(text);
    if (known !== undefined) return known;
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(text, text);
    return text;
  }
}

/** The wall-clock time as `toLocaleTimeString()` writes it, with one formatter and the last second remembered. */
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "numeric", second: "numeric" });
let lastSecond = NaN;
let lastTime = "";

export function formatTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastTime = timeFormat.format(ms);
  }
  return lastTime;
}
