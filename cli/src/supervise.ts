import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface ChildSpec {
  /** How messages name it: "control plane", "agent mev-1", "JupyterLab". */
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Started again, after a backoff, when it exits on its own (asked at each exit); else only reported. */
  restart: boolean | (() => boolean);
  /** Called when it exits on its own, after the report. */
  onExit?: (how: string) => void;
  /** Its stderr lines are copied to ours with this prefix; kept only in the tail when absent. */
  stderrPrefix?: string;
  /** Each line of its stdout (ignored when absent). */
  onStdoutLine?: (line: string, pid: number) => void;
}

export interface SuperviseOptions {
  /** First restart delay, doubled after each restart up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run that lasted this long puts the delay back to `minBackoffMs`. */
  stableMs?: number;
  /** Lines of its stderr kept to show when it exits. */
  tailLines?: number;
  /** Where reports go (stderr by default). */
  report?: (line: string) => void;
}

type State = "running" | "waiting" | "stopping" | "stopped" | "exited";

/** Longest wait for a child's stderr to end after it exited, before reporting the exit. */
const STDERR_DRAIN_MS = 500;

/** Grace before a child asked to stop is killed. */
const STOP_GRACE_MS = 10_000;

/**
 * One child process of `mevlab up`: started, watched, reported with its last error lines when it
 * exits on its own, and restarted with a doubling backoff when it is meant to run for good.
 */
export class Supervised {
  private state: State = "running";
  private child!: ChildProcess;
  private exited!: Promise<void>;
  private readonly tail: string[] = [];
  private startedAt = 0;
  private backoff: number;
  private timer?: NodeJS.Timeout;
  /** How many times it has been restarted. */
  restarts = 0;

  constructor(
    private readonly spec: ChildSpec,
    private readonly opts: SuperviseOptions = {},
  ) {
    this.backoff = opts.minBackoffMs ?? 1_000;
    this.spawn();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the child is running (not exited, not waiting for its restart). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.state !== "waiting";
  }

  /** The last lines it wrote to stderr, oldest first. */
  lastLines(): string {
    return this.tail.join("\n");
  }

  /** Sends `signal` to the child's process group at once, if it is still running (for process exit). */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      // ESRCH: the group is gone already.
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
    }
  }

  /** Ends the child (SIGTERM, then SIGKILL after a grace period) and any pending restart. */
  async stop(): Promise<void> {
    if (this.state === "stopped" || this.state === "stopping") return this.exited;
    clearTimeout(this.timer);
    const running = this.state === "running";
    this.state = "stopping";
    if (running && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const kill = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
    }
    this.state = "stopped";
  }

  private spawn(): void {
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: this.spec.env,
      // Its own process group: Ctrl-C reaches `up` alone, which stops the children in order. Its stdin
      // stays open: a mevlab child (MEVLAB_EXIT_WITH_PARENT) ends when `up` is gone, however it went.
      detached: true,
      stdio: ["pipe", this.spec.onStdoutLine ? "pipe" : "ignore", "pipe"],
    });
    this.child = child;
    this.startedAt = Date.now();
    let finish!: () => void;
    this.exited = new Promise((resolve) => (finish = resolve));
    const ended = (how: string): void => {
      finish();
      this.onExit(child, how);
    };
    // Its last stderr lines (often the stack trace that explains the exit) may still be in the pipe
    // at 'exit': the report waits for the pipe's end, at most STDERR_DRAIN_MS (a grandchild may hold it).
    const stderrEnded = new Promise<void>((resolve) => child.stderr?.once("close", resolve));
    child.once("exit", (code, signal) => {
      const how = code === null ? `signal ${signal}` : `code ${code}`;
      const drained = new Promise<void>((resolve) => setTimeout(resolve, STDERR_DRAIN_MS).unref());
      void Promise.race([stderrEnded, drained]).then(() => ended(how));
    });
    child.on("error", (err) => {
      this.keep(`${this.spec.name}: ${err.message}`);
      // Not started at all (no such program): there will be no exit event.
      if (child.pid === undefined) ended(err.message);
    });
    child.stdin?.on("error", (err) => this.keep(`${this.spec.name} stdin: ${err.message}`));
    createInterface({ input: child.stderr! }).on("line", (line) => {
      this.keep(line);
      if (this.spec.stderrPrefix !== undefined) process.stderr.write(`${this.spec.stderrPrefix}${line}\n`);
    });
    const onLine = this.spec.onStdoutLine;
    if (onLine) createInterface({ input: child.stdout! }).on("line", (line) => onLine(line, child.pid ?? 0));
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > (this.opts.tailLines ?? 20)) this.tail.shift();
  }

  private onExit(child: ChildProcess, how: string): void {
    if (this.state !== "running" || child !== this.child) return;
    const report = this.opts.report ?? ((line: string) => void process.stderr.write(line + "\n"));
    const last = this.tail.length > 0 ? `; its last error lines:\n${this.tail.map((l) => `  | ${l}`).join("\n")}` : "";
    report(`mevlab: ${this.spec.name} (pid ${child.pid}) exited unexpectedly (${how})${last}`);
    const restart = typeof this.spec.restart === "function" ? this.spec.restart() : this.spec.restart;
    if (!restart) {
      this.state = "exited";
      report(`mevlab: ${this.spec.name} is not restarted`);
      this.spec.onExit?.(how);
      return;
    }
    if (Date.now() - this.startedAt >= (this.opts.stableMs ?? 60_000)) this.backoff = this.opts.minBackoffMs ?? 1_000;
    const delay = this.backoff;
    this.backoff = Math.min(delay * 2, this.opts.maxBackoffMs ?? 30_000);
    this.state = "waiting";
    report(`mevlab: restarting ${this.spec.name} in ${delay / 1000} s (restart ${this.restarts + 1})`);
    this.spec.onExit?.(how);
    this.timer = setTimeout(() => {
      if (this.state !== "waiting") return;
      this.state = "running";
      this.restarts += 1;
      this.tail.length = 0;
      this.spawn();
      report(`mevlab: ${this.spec.name} restarted (pid ${this.child.pid})`);
    }, delay);
  }
}
