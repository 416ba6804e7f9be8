import { sealAnchor, type AnchorTarget } from "./anchor";

/**
 * Writes the log's head to the anchor: at once, then every `everyMs` when it moved, and on close.
 * A failed write is logged and retried at the next tick; writes never overlap.
 */
export class AnchorKeeper {
  private written = -1;
  private busy?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly target: AnchorTarget,
    private readonly key: Uint8Array,
    private readonly head: () => { count: number; head: string },
    private readonly log: (line: string) => void,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    while (this.busy) await this.busy;
    const { count, head } = this.head();
    if (count === this.written) return;
    const text = sealAnchor(this.key, { count, head, ts: new Date().toISOString() });
    this.busy = this.target.write(text).then(
      () => void (this.written = count),
      (err: unknown) => this.log(`audit anchor ${this.target.uri}: not written (${String(err)}); retried`),
    );
    try {
      await this.busy;
    } finally {
      this.busy = undefined;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
