import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Module, PolicySchema, create, fromWireJson, toWireJson, type Policy } from "@mevlab/proto";
import { JournalWriter, replayJournal } from "../journal";

/** What a promotion may change; absent fields are carried over from the current version. */
export interface PolicyChanges {
  evMin?: number;
  tipLadder?: number[];
  throttlePct?: number;
  kill?: boolean;
  modelId?: string;
  /** A candidate to score beside the live model; null ends the shadow. Absent: carried over. */
  shadow?: { modelId: string; evMin: number } | null;
}

/** Version 0 of every module: what a reference agent runs before any promotion. */
export function defaultPolicy(module: Module): Policy {
  return create(PolicySchema, {
    schemaVersion: 1,
    module,
    version: 0n,
    evMin: 0.0005,
    tipLadder: [0.5, 0.7, 0.85, 0.95],
    throttlePct: 0,
    kill: false,
    author: "mevlab",
    reason: "default",
  });
}

export interface PolicyStoreOptions {
  /** fdatasync each version (default true): a version sent to the agents is never issued twice. */
  fsync?: boolean;
  /** Where a repaired journal is reported. */
  log?: (line: string) => void;
}

/**
 * Every version of each module's policy, monotonic, each with its parent; one JSONL file per module.
 * A torn last line (a crash while a promotion was written) is cut off: that promotion did not happen.
 */
export class PolicyStore {
  private readonly history = new Map<Module, Policy[]>();
  private readonly journals = new Map<Module, JournalWriter>();

  constructor(
    private readonly dir: string,
    opts: PolicyStoreOptions = {},
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const log = opts.log ?? ((l: string) => process.stderr.write(`control-plane: ${l}\n`));
    for (const module of [Module.arbitrage, Module.mev]) {
      const file = this.file(module);
      const versions: Policy[] = [];
      replayJournal(file, { log, apply: (line) => versions.push(fromWireJson(PolicySchema, line)) });
      this.history.set(module, versions.length ? versions : [defaultPolicy(module)]);
      this.journals.set(module, new JournalWriter(file, { sync: (opts.fsync ?? true) ? "each" : "none" }));
    }
  }

  current(module: Module): Policy {
    const h = this.history.get(module) ?? [];
    return h[h.length - 1];
  }

  list(module: Module): Policy[] {
    return [...(this.history.get(module) ?? [])];
  }

  find(module: Module, version: bigint): Policy | undefined {
    return this.history.get(module)?.find((p) => p.version === version);
  }

  /** The version in force at `at` (ms since the epoch): the last one created at or before it. */
  at(module: Module, at: number): Policy | undefined {
    const h = this.history.get(module) ?? [];
    for (let i = h.length - 1; i >= 0; i--) if (Number(h[i].createdAt) <= at) return h[i];
    return undefined;
  }

  /** Creates the next version from the current one and the changes, and keeps it. */
  next(module: Module, changes: PolicyChanges, author: string, reason: string): Policy {
    const cur = this.current(module);
    const policy = create(PolicySchema, {
      schemaVersion: 1,
      module,
      version: cur.version + 1n,
      parentVersion: cur.version,
      evMin: changes.evMin ?? cur.evMin,
      tipLadder: changes.tipLadder ?? cur.tipLadder,
      throttlePct: changes.throttlePct ?? cur.throttlePct,
      kill: changes.kill ?? cur.kill,
      modelId: changes.modelId ?? cur.modelId,
      shadow: changes.shadow === null ? undefined : (changes.shadow ?? cur.shadow),
      author,
      reason,
      createdAt: BigInt(Date.now()),
    });
    this.journals.get(module)?.append(JSON.stringify(toWireJson(PolicySchema, policy)));
    this.history.get(module)?.push(policy);
    return policy;
  }

  async close(): Promise<void> {
    for (const j of this.journals.values()) await j.close();
  }

  private file(module: Module): string {
    return join(this.dir, `${Module[module]}.jsonl`);
  }
}
