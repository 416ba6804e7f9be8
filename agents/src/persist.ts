import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { AgentState } from "@mevlab/proto";
import type { AgentRuntime } from "./state";

interface Saved {
  runtime: Omit<AgentRuntime, "policyVersion" | "commandsApplied"> & { policyVersion: string; commandsApplied: string };
  seen: string[];
}

/**
 * The agent's runtime and dedupe window on disk, written atomically after every command it takes
 * in and before it acks: a restarted agent answers a replayed command `duplicate`.
 */
export class StateFile {
  constructor(private readonly path: string) {}

  load(): { runtime: AgentRuntime; seen: string[] } | undefined {
    if (!existsSync(this.path)) return undefined;
    const saved = JSON.parse(readFileSync(this.path, "utf8")) as Saved;
    return {
      runtime: {
        ...saved.runtime,
        state: saved.runtime.state as AgentState,
        policyVersion: BigInt(saved.runtime.policyVersion),
        commandsApplied: BigInt(saved.runtime.commandsApplied),
      },
      seen: saved.seen,
    };
  }

  save(runtime: AgentRuntime, seen: readonly string[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const saved: Saved = {
      runtime: {
        ...runtime,
        policyVersion: runtime.policyVersion.toString(),
        commandsApplied: runtime.commandsApplied.toString(),
      },
      seen: [...seen],
    };
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(saved));
    renameSync(tmp, this.path);
  }
}
