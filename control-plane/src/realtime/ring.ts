import type { Entry } from "./frames";

/** Fixed-size ring of the latest events of one stream. */
export class Ring {
  private readonly items: (Entry | undefined)[];
  private start = 0;
  length = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<Entry | undefined>(capacity);
  }

  push(e: Entry): void {
    if (this.capacity === 0) return;
    if (this.length < this.capacity) {
      this.items[(this.start + this.length) % this.capacity] = e;
      this.length += 1;
    } else {
      this.items[this.start] = e;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Oldest seq still held; undefined when empty. */
  oldestSeq(): bigint | undefined {
    return this.length ? this.items[this.start]!.seq : undefined;
  }

  *after(seq: bigint): Generator<Entry> {
    for (let i = 0; i < this.length; i++) {
      const e = this.items[(this.start + i) % this.capacity]!;
      if (e.seq > seq) yield e;
    }
  }
}
