/**
 * Lineage: for each promoted version, what the policy store does not keep — how it was promoted (live,
 * shadow, shadow made live, shadow dropped, rollback), the command that carried it to the agents, and
 * the notebook it came from. One JSONL line per version; the chain of a version is assembled from
 * this, the policy store, the model store (card: dataset, params, metrics, git commit) and the request
 * records (which agents acked, with the model they loaded).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { JournalWriter, replayJournal } from "../journal";

export type PromotionMode = "live" | "shadow" | "shadow_to_live" | "shadow_drop" | "rollback" | "update";

export interface LineageEntry {
  module: string;
  version: string;
  mode: PromotionMode;
  request_id: string;
  notebook: string;
  at: number;
}

export class LineageStore {
  private readonly entries = new Map<string, LineageEntry>();
  private readonly journal: JournalWriter;

  constructor(dir: string, opts: { fsync?: boolean; log?: (line: string) => void } = {}) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, "lineage.jsonl");
    const log = opts.log ?? ((l: string) => process.stderr.write(`control-plane: ${l}\n`));
    replayJournal(file, {
      log,
      apply: (line) => {
        const e = line as unknown as LineageEntry;
        this.entries.set(key(e.module, e.version), e);
      },
    });
    this.journal = new JournalWriter(file, { sync: (opts.fsync ?? true) ? "each" : "none" });
  }

  record(entry: LineageEntry): void {
    this.journal.append(JSON.stringify(entry));
    this.entries.set(key(entry.module, entry.version), entry);
  }

  get(module: string, version: bigint | string): LineageEntry | undefined {
    return this.entries.get(key(module, String(version)));
  }

  async close(): Promise<void> {
    await this.journal.close();
  }
}

const key = (module: string, version: string) => `${module}@${version}`;
