import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "@mevlab/cli";
import { CLI } from "./stack";

/** `mevlab up --no-lab` as a process whose every output line a test can look at. */
export interface UpProcess {
  child: ChildProcess;
  url: string;
  dataDir: string;
  admin: { username: string; password: string };
  pids: { controlPlane: number; agents: Record<string, number> };
  /** Every line it wrote, on stdout and on stderr (its children's stderr included). */
  stdout: string[];
  stderr: string[];
  /** Resolves with the first line from line `from` on (already written or to come) that matches. */
  waitForLine(
    stream: "stdout" | "stderr",
    pattern: RegExp,
    opts?: { timeoutMs?: number; from?: number },
  ): Promise<RegExpExecArray>;
  /** Sends `signal` (SIGTERM by default) and resolves when `up` has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const MAX_LINES = 200_000;

export async function startUp(opts: { rate: number; agentsPerModule?: number }): Promise<UpProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-up-"));
  const port = await freePort();
  const args = ["up", "--no-lab", "--data-dir", dataDir, "--port", String(port), "--rate", String(opts.rate)];
  args.push("--agents", String(opts.agentsPerModule ?? 1));
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, KAFKA_BROKERS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const waiters: { stream: "stdout" | "stderr"; pattern: RegExp; found: (m: RegExpExecArray) => void }[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    createInterface({ input: child[stream]! }).on("line", (line) => {
      if (lines[stream].length < MAX_LINES) lines[stream].push(line);
      for (const w of [...waiters]) {
        const m = w.stream === stream ? w.pattern.exec(line) : null;
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.found(m);
        }
      }
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const waitForLine = (stream: "stdout" | "stderr", pattern: RegExp, { timeoutMs = 60_000, from = 0 } = {}) => {
    for (const line of lines[stream].slice(from)) {
      const m = pattern.exec(line);
      if (m) return Promise.resolve(m);
    }
    return new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1);
        reject(new Error(`mevlab up wrote no ${stream} line matching ${pattern} within ${timeoutMs} ms:\n${tail()}`));
      }, timeoutMs);
      const waiter = { stream, pattern, found: (m: RegExpExecArray) => (clearTimeout(timer), resolve(m)) };
      waiters.push(waiter);
    });
  };
  const tail = () => [...lines.stdout, "--- stderr:", ...lines.stderr.slice(-40)].join("\n");
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await Promise.race([
      waitForLine("stdout", /^JupyterLab\s+not started/, { timeoutMs: 120_000 }),
      exited.then(() => Promise.reject(new Error(`mevlab up exited (${child.exitCode}):\n${tail()}`))),
    ]);
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  const demo = lines.stdout.map((l) => /^demo admin\s+(\S+) \/ (\S+)/.exec(l)).find(Boolean);
  const cp = lines.stdout.map((l) => /^control plane\s+(\S+)\s.*pid (\d+)\)/.exec(l)).find(Boolean);
  if (!demo || !cp) throw new Error(`mevlab up printed no demo admin or control plane line:\n${tail()}`);
  const agents: Record<string, number> = {};
  for (const m of lines.stdout.map((l) => /^agent\s+(\S+) \(pid (\d+)\)/.exec(l))) if (m) agents[m[1]] = Number(m[2]);
  return {
    child,
    url: cp[1],
    dataDir,
    admin: { username: demo[1], password: demo[2] },
    pids: { controlPlane: Number(cp[2]), agents },
    stdout: lines.stdout,
    stderr: lines.stderr,
    waitForLine,
    stop,
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

/** Processes whose command line names `dataDir`: what a mevlab started on it and left running. */
export function processesOn(dataDir: string): string[] {
  const ps = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" });
  return ps.stdout
    .split("\n")
    .filter((l) => l.includes(dataDir))
    .map((l) => l.trim());
}
