import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { AgentState } from "@mevlab/proto";
import type { AgentRuntime } from "./state";

type SavedRuntime = Omit<AgentRuntime, "policyVersion" | "commandsApplied"> & {
  policyVersion: string;
  commandsApplied: string;
};

/** First line of the journal: a full snapshot. Each later line: one command taken in. */
interface Snapshot {
  runtime: SavedRuntime;
  seen: string[];
}
interface Entry {
  id: string;
  runtime: SavedRuntime;
}

const COMPACT_AFTER = 5_000;

/**
 * The agent's runtime and dedupe window on disk: a journal with one appended line per command,
 * written before the ack, so a restarted agent answers a replayed command `duplicate`. Appending to
 * an open file costs one write; the journal is compacted into a snapshot every few thousand lines.
 */
export class StateFile {
  private fd?: number;
  private lines = 0;

  constructor(private readonly path: string) {}

  load(): { runtime: AgentRuntime; seen: string[] } | undefined {
    if (!existsSync(this.path)) return undefined;
    const text = readFileSync(this.path, "utf8");
    let runtime: SavedRuntime | undefined;
    const seen: string[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let parsed: Snapshot | Entry;
      try {
        parsed = JSON.parse(line) as Snapshot | Entry;
      } catch {
        // A line cut short by a crash mid-write: its command was never acked, so it is safe to drop.
        continue;
      }
      if ("seen" in parsed) seen.push(...parsed.seen);
      else seen.push(parsed.id);
      runtime = parsed.runtime;
    }
    if (!runtime) return undefined;
    return {
      runtime: {
        ...runtime,
        state: runtime.state as AgentState,
        policyVersion: BigInt(runtime.policyVersion),
        commandsApplied: BigInt(runtime.commandsApplied),
      },
      seen,
    };
  }

  /** Appends the command and the runtime after it; compacts when the journal has grown long. */
  record(requestId: string, runtime: AgentRuntime, seen: () => readonly string[]): void {
    if (this.fd === undefined || this.lines >= COMPACT_AFTER) this.compact(runtime, seen());
    else {
      writeSync(this.fd, JSON.stringify({ id: requestId, runtime: toSaved(runtime) } satisfies Entry) + "\n");
      this.lines += 1;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private compact(runtime: AgentRuntime, seen: readonly string[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ runtime: toSaved(runtime), seen: [...seen] } satisfies Snapshot) + "\n");
    this.close();
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, "a");
    this.lines = 0;
  }
}

function toSaved(runtime: AgentRuntime): SavedRuntime {
  return {
    ...runtime,
    policyVersion: runtime.policyVersion.toString(),
    commandsApplied: runtime.commandsApplied.toString(),
  };
}
