import { randomUUID } from "node:crypto";
import { JobSchema, create, fromWireJson, toWireJson, type Job, type JsonValue } from "@mevlab/proto";
import { DataError, describe, exportDataset, type DataSource, type ExportSpec } from "@mevlab/kernel-helpers";
import { JournalWriter, replayJournal } from "../journal";

const INTERRUPTED = "interrupted: the control plane stopped while it ran; start it again";

export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";
const FINAL = new Set<string>(["succeeded", "failed", "cancelled"]);

export interface JobRunnerOptions {
  /** Append-only journal of job snapshots (the last line per id wins). */
  file: string;
  source: DataSource;
  allowedRoots: readonly string[];
  /** Every change of a job (throttled while it runs). */
  onChange: (job: Job) => void;
  log?: (line: string) => void;
  /** Minimum time between two progress snapshots of one job (default 250 ms). */
  progressEveryMs?: number;
  /** Runs a job of another kind than dataset_export (training); `update` records and pushes a change. */
  kinds?: Record<string, KindRunner>;
}

/** What runs a job of one kind: resolves when it succeeded (after its last update), throws otherwise. */
export type KindRunner = (
  job: Job,
  spec: unknown,
  signal: AbortSignal,
  update: (changes: Partial<Job>, persist?: boolean) => void,
) => Promise<void>;

/** Kinds whose job cannot be rerun after a restart: marked failed instead (a training run is not resumable). */
const NOT_RERUN = new Set(["training"]);

/**
 * The embedded job runner: dataset exports one at a time, in order of submission. State is journaled,
 * so jobs survive a control-plane restart: one that was queued or running when it stopped runs again
 * (an export is written to a staging place and only appears whole, so a rerun is safe).
 */
export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private readonly specs = new Map<string, unknown>();
  private readonly queue: string[] = [];
  private readonly journal: JournalWriter;
  private running?: { id: string; abort: AbortController; done: Promise<void> };
  private closed = false;

  constructor(private readonly opts: JobRunnerOptions) {
    // A torn last line is cut off: the job's previous snapshot stands. Progress snapshots are not
    // fsynced (a job whose last lines are lost runs again).
    const log = opts.log ?? ((l: string) => process.stderr.write(`control-plane: jobs: ${l}\n`));
    replayJournal(opts.file, {
      log,
      apply: (line) => {
        const { job, spec } = line as unknown as { job: JsonValue; spec?: unknown };
        const j = fromWireJson(JobSchema, job);
        this.jobs.set(j.id, j);
        if (spec) this.specs.set(j.id, spec);
      },
    });
    const restarted = [...this.jobs.values()].filter((j) => !FINAL.has(j.state)).map((j) => j.id);
    this.journal = new JournalWriter(opts.file, { sync: "none" });
    for (const id of restarted.sort((a, b) => Number(this.jobs.get(a)!.createdAt - this.jobs.get(b)!.createdAt))) {
      const j = this.jobs.get(id)!;
      if (NOT_RERUN.has(j.kind) && j.state === "running") {
        opts.log?.(`job ${id} was running when the control plane stopped: failed (interrupted)`);
        this.update(j, {
          state: "failed",
          finishedAt: BigInt(Date.now()),
          errorCode: "interrupted",
          error: INTERRUPTED,
        });
        continue;
      }
      opts.log?.(`job ${id} was ${j.state} when the control plane stopped: queued again`);
      this.update(j, { state: "queued", phase: "", fraction: 0, error: "" });
      this.queue.push(id);
    }
    this.pump();
  }

  /** Queues an export (or a job of another kind); `spec` has been validated by the caller. */
  submit(spec: unknown, output: string, createdBy: string, params: unknown, kind = "dataset_export"): Job {
    const job = create(JobSchema, {
      id: `job-${randomUUID()}`,
      kind,
      state: "queued",
      createdBy,
      createdAt: BigInt(Date.now()),
      output,
      paramsJson: JSON.stringify(params),
    });
    this.jobs.set(job.id, job);
    this.specs.set(job.id, spec);
    this.persist(job);
    this.opts.onChange(job);
    this.queue.push(job.id);
    this.pump();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Newest first; only those of `kind` when given. */
  list(limit = 100, kind?: string): Job[] {
    return [...this.jobs.values()]
      .filter((j) => kind === undefined || j.kind === kind)
      .sort((a, b) => Number(b.createdAt - a.createdAt))
      .slice(0, limit);
  }

  /** Outputs of jobs that have not finished: a second job may not write to one of them. */
  busyOutputs(): Set<string> {
    return new Set([...this.jobs.values()].filter((j) => !FINAL.has(j.state)).map((j) => j.output));
  }

  /** Cancels a queued or running job; false when it had already finished. */
  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job || FINAL.has(job.state)) return false;
    if (this.running?.id === id) {
      this.running.abort.abort();
      return true;
    }
    this.queue.splice(this.queue.indexOf(id), 1);
    this.update(job, { state: "cancelled", finishedAt: BigInt(Date.now()), error: "cancelled before it started" });
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A running export is interrupted; its journal says running, so the next start runs it again.
    const running = this.running;
    if (running) {
      running.abort.abort();
      await running.done;
    }
    await this.journal.close();
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const id = this.queue.shift();
    if (!id) return;
    const job = this.jobs.get(id)!;
    const spec = this.specs.get(id);
    const abort = new AbortController();
    const done = this.run(job, spec, abort).finally(() => {
      this.running = undefined;
      this.pump();
    });
    this.running = { id, abort, done };
  }

  private async run(job: Job, spec: unknown, abort: AbortController): Promise<void> {
    if (!spec) {
      this.update(job, { state: "failed", finishedAt: BigInt(Date.now()), error: "the job's parameters were lost" });
      return;
    }
    const kind = this.opts.kinds?.[job.kind];
    if (job.kind !== "dataset_export" && !kind) {
      this.update(job, {
        state: "failed",
        finishedAt: BigInt(Date.now()),
        error: `no runner for jobs of kind ${job.kind}`,
      });
      return;
    }
    this.update(job, { state: "running", startedAt: BigInt(Date.now()), phase: kind ? "read" : "write", fraction: 0 });
    try {
      if (kind) await kind(job, spec, abort.signal, (changes, persist) => this.update(job, changes, persist));
      else await this.runExport(job, spec as ExportSpec, abort);
    } catch (err) {
      if (this.closed && abort.signal.aborted) return; // stays "running" in the journal: see the constructor
      const cancelled = abort.signal.aborted;
      const code = (err as { code?: unknown }).code;
      this.update(job, {
        state: cancelled ? "cancelled" : "failed",
        finishedAt: BigInt(Date.now()),
        errorCode: typeof code === "string" ? code : "",
        error: cancelled
          ? `cancelled while running; nothing was written${kind ? " for the model in progress" : ""}`
          : describe(err),
      });
      if (!cancelled && !(err instanceof DataError) && !kind) this.opts.log?.(`job ${job.id} failed: ${describe(err)}`);
    }
  }

  private async runExport(job: Job, spec: ExportSpec, abort: AbortController): Promise<void> {
    let last = 0;
    const every = this.opts.progressEveryMs ?? 250;
    const res = await exportDataset(spec, {
      source: this.opts.source,
      allowedRoots: this.opts.allowedRoots,
      signal: abort.signal,
      onProgress: (p) => {
        const now = Date.now();
        if (now - last < every && p.phase !== "done") return;
        last = now;
        this.update(
          job,
          {
            phase: p.phase,
            fraction: p.fraction,
            rows: BigInt(p.rows),
            bytes: BigInt(p.bytes),
            filesDone: p.files_done,
            filesTotal: p.files_total,
          },
          false,
        );
      },
    });
    this.update(job, {
      state: "succeeded",
      finishedAt: BigInt(Date.now()),
      phase: "done",
      fraction: 1,
      rows: BigInt(res.manifest.rows),
      bytes: BigInt(res.manifest.bytes),
      filesDone: res.manifest.files.length,
      filesTotal: res.manifest.files.length,
      datasetId: res.id,
      manifestJson: JSON.stringify(res.manifest),
    });
  }

  private update(job: Job, changes: Partial<Job>, persist = true): void {
    Object.assign(job, changes);
    if (persist) this.persist(job);
    this.opts.onChange(job);
  }

  private persist(job: Job): void {
    if (!this.journal.isOpen) return;
    this.journal.append(JSON.stringify({ job: toWireJson(JobSchema, job), spec: this.specs.get(job.id) }));
  }
}
