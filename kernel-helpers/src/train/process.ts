/** The trainer as a child process: NDJSON events from stdout, log lines from stderr, SIGTERM on abort. */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { TrainError } from "../errors";
import type { ModelEvent, TrainerEvent } from "./events";

export interface TrainerProcessOptions {
  python: string;
  args: string[];
  /** Added to PYTHONPATH so that the checkout's trainer is the one that runs. */
  repoDir?: string;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  onEvent: (e: TrainerEvent) => void;
  onLog: (line: string) => void;
  /** After SIGTERM, how long to wait before SIGKILL (default 30 s). */
  killAfterMs?: number;
}

export interface TrainerOutcome {
  done: TrainerEvent;
  models: ModelEvent[];
}

const TAIL = 40;

/** The checkout this file belongs to (the directory holding mevlab/train), if there is one. */
export function findRepo(from: string = __dirname): string | undefined {
  for (let dir = resolve(from); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "mevlab", "train", "cli.py"))) return dir;
  }
  return undefined;
}

/** `python` option, else MEVLAB_PYTHON, else the checkout's `.venv/bin/python`, else `python3`. */
export function defaultPython(repoDir: string | undefined = findRepo()): string {
  if (process.env.MEVLAB_PYTHON) return process.env.MEVLAB_PYTHON;
  const venv = repoDir && join(repoDir, ".venv", "bin", "python");
  return venv && existsSync(venv) ? venv : "python3";
}

/** Runs `python -m mevlab.train …`; resolves on `done`, rejects with a TrainError otherwise. */
export function runTrainer(opts: TrainerProcessOptions): Promise<TrainerOutcome> {
  if (opts.signal?.aborted) return Promise.reject(new TrainError("cancelled", "cancelled before the trainer started"));
  const env = { ...process.env, ...opts.env };
  if (opts.repoDir) env.PYTHONPATH = [opts.repoDir, env.PYTHONPATH].filter(Boolean).join(":");
  const child = spawn(opts.python, ["-m", "mevlab.train", ...opts.args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const models: ModelEvent[] = [];
  let done: TrainerEvent | undefined;
  let error: TrainerEvent | undefined;
  let badLine: string | undefined;
  createInterface({ input: child.stderr }).on("line", (line) => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
    opts.onLog(line);
  });
  const stdout = createInterface({ input: child.stdout });
  stdout.on("line", (line) => {
    let e: TrainerEvent;
    try {
      e = JSON.parse(line) as TrainerEvent;
    } catch {
      badLine ??= line;
      return;
    }
    if (e.event === "model") models.push(e as ModelEvent);
    if (e.event === "done") done = e;
    if (e.event === "error") error = e;
    opts.onEvent(e);
  });
  let killer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    child.kill("SIGTERM");
    killer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 30_000);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const closed = new Promise<void>((res) => stdout.once("close", res));
  return new Promise<TrainerOutcome>((resolvePromise, reject) => {
    child.once("error", (err) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new TrainError("spawn_failed", `cannot start ${opts.python}: ${err.message}`, { cause: err }));
    });
    child.once("close", (code, signal) => {
      void closed.then(() => {
        clearTimeout(killer);
        opts.signal?.removeEventListener("abort", onAbort);
        if (code === 0 && done) return resolvePromise({ done, models });
        const err = failure(code, signal, error, badLine, tail);
        reject(opts.signal?.aborted && !error ? new TrainError("cancelled", err.message, { exitCode: code }) : err);
      });
    });
  });
}

function failure(
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  error: TrainerEvent | undefined,
  badLine: string | undefined,
  logTail: string[],
): TrainError {
  if (error) {
    const { code, message } = error;
    const details = Object.fromEntries(
      Object.entries(error).filter(([k]) => k !== "event" && k !== "code" && k !== "message"),
    );
    return new TrainError(String(code), String(message), { exitCode, details, logTail });
  }
  const how = signal ? `was killed by ${signal}` : `exited with status ${exitCode}`;
  const why = badLine ? `; stdout had a line that is not an event: ${badLine.slice(0, 200)}` : "";
  const last = logTail.length ? `; its last log line: ${logTail[logTail.length - 1]}` : "";
  return new TrainError("protocol", `the trainer ${how} without an error event${why}${last}`, {
    exitCode,
    details: signal ? { signal } : {},
    logTail,
  });
}
