import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
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
/** The agent's state is its operator's alone: directories 0700, files 0600. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Another live process has the state file: two agents with one id would apply a command twice. */
export class StateFileInUseError extends Error {
  override readonly name = "StateFileInUseError";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The agent's runtime and dedupe window on disk: a journal with one appended line per command,
 * written before the ack, so a restarted agent answers a replayed command `duplicate`. Appending to
 * an open file costs one write; the journal is compacted into a snapshot every few thousand lines.
 */
export class StateFile {
  private fd?: number;
  private lines = 0;
  private locked = false;

  constructor(private readonly path: string) {}

  /**
   * Takes `<path>.lock` (this process's pid) for as long as the agent runs. Two agents started with
   * the same id and data directory would share this journal and each apply every command once, and
   * on Kafka each would remove the other from its consumer group: the second is refused. A lock left
   * by a process that has ended (killed, crashed) is taken over.
   */
  lock(): void {
    const lockPath = `${this.path}.lock`;
    mkdirSync(dirname(lockPath), { recursive: true, mode: DIR_MODE });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, "wx", FILE_MODE);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new StateFileInUseError(
          `${this.path} is in use by process ${pid}${pid === process.pid ? " (this one)" : ""}: an agent with ` +
            `this id is already running on this data directory. Stop it first, or start this one with ` +
            `another --agent-id (if process ${pid} is not a mevlab agent, remove ${lockPath}).`,
        );
      }
      rmSync(lockPath, { force: true });
    }
    throw new StateFileInUseError(`${this.path}: another process took ${lockPath} at the same moment`);
  }

  load(): { runtime: AgentRuntime; seen: string[] } | undefined {
    if (!existsSync(this.path)) return undefined;
    // A journal an older version wrote world-readable.
    chmodSync(this.path, FILE_MODE);
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

  /** Closes the journal and gives the lock back. */
  close(): void {
    this.closeJournal();
    if (this.locked) rmSync(`${this.path}.lock`, { force: true });
    this.locked = false;
  }

  private closeJournal(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private compact(runtime: AgentRuntime, seen: readonly string[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: DIR_MODE });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ runtime: toSaved(runtime), seen: [...seen] } satisfies Snapshot) + "\n", {
      mode: FILE_MODE,
    });
    this.closeJournal();
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
