/**
 * Dataset exports: slices of the event store written as Parquet or JSON lines into a new local directory
 * or under an S3 prefix, with a `manifest.json` (files, rows, bytes, sha256 of each file, schema,
 * filters, source, created_at). The sha256 of the manifest's bytes is the dataset id that training
 * lineage refers to. A dataset appears whole or not at all: files are written to a staging place, and the
 * manifest comes last. The spec's checks, the output roots, S3 and the manifest live in `export-*.ts`
 * and `dataset-manifest.ts`.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { DataError, describe } from "../errors";
import { datasetId, hashFile, type DatasetFile, type DatasetManifest } from "./dataset-manifest";
import { defaultExportRoots, resolveOutput, type OutputTarget } from "./export-output";
import { planExport, schemaOf, type ExportPlan, type ExportSpec } from "./export-plan";
import { S3Target, type S3Settings } from "./export-s3";
import { dataSource, type DataSource } from "./slice";

export {
  datasetId,
  verifyDataset,
  type DatasetFile,
  type DatasetManifest,
  type VerifyResult,
} from "./dataset-manifest";
export { defaultExportRoots, resolveOutput, type OutputTarget } from "./export-output";
export type { ExportSpec } from "./export-plan";
export { s3Client, type S3Settings } from "./export-s3";

export interface ExportOptions {
  /** Default: the notebook's `dataSource()` (ClickHouse when `CLICKHOUSE_URL` is set, else the local store). */
  source?: DataSource;
  /**
   * Directories and `s3://bucket[/prefix]` roots an export may write into. Default `MEVLAB_EXPORT_ROOTS`
   * (comma-separated) or, without it, the current directory. Relative outputs resolve against the first
   * local root.
   */
  allowedRoots?: readonly string[];
  s3?: S3Settings;
  /** S3 multipart part size (default 8 MiB, at least 5 MiB). */
  partSizeBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportProgress {
  phase: "write" | "hash" | "upload" | "manifest" | "done";
  /** The table being exported. */
  table?: string;
  files_done: number;
  files_total: number;
  rows: number;
  bytes: number;
  /** 0–1 over the whole export. */
  fraction: number;
}

export interface ExportResult {
  /** `sha256:<hex>` of manifest.json's bytes. */
  id: string;
  /** Where the dataset is: an absolute directory or `s3://bucket/prefix`. */
  output: string;
  manifest: DatasetManifest;
}

/**
 * Checks an export without running it: every field, every filter, and the output against the allowed
 * roots. Returns where the dataset would go. Throws the `DataError` that `exportDataset` would.
 */
export function validateExport(spec: ExportSpec, allowedRoots: readonly string[] = defaultExportRoots()): string {
  planExport(spec);
  return resolveOutput(spec.output, allowedRoots).uri;
}

/** Exports the slices of `spec.types` and returns the dataset id and manifest. */
export async function exportDataset(spec: ExportSpec, options: ExportOptions = {}): Promise<ExportResult> {
  const plan = planExport(spec);
  const target = resolveOutput(spec.output, options.allowedRoots ?? defaultExportRoots());
  const source = options.source ?? dataSource();
  const progress = new ExportReporter(plan.tables.length, options.onProgress);
  const s3 = target.kind === "s3" ? await S3Target.open(target, options) : undefined;
  const staging = stagingDir(target);
  const outputDir = target.kind === "local" ? target.dir : undefined;
  const run: ExportRun = { plan, source, staging, outputDir, s3, signal: options.signal, progress };
  try {
    const files: DatasetFile[] = [];
    for (const t of plan.tables) {
      if (options.signal?.aborted) throw new DataError("export cancelled");
      files.push(await exportTable(run, t));
    }
    const manifest = manifestOf(run, files);
    const text = Buffer.from(JSON.stringify(manifest, null, 2) + "\n");
    const id = datasetId(text);
    progress.report(0, "manifest");
    if (options.signal?.aborted) throw new DataError("export cancelled");
    await publish(run, target, text);
    progress.report(0, "done");
    return { id, output: target.uri, manifest };
  } catch (err) {
    await s3?.removeWritten();
    throw err instanceof DataError
      ? err
      : new DataError(`export to ${target.uri} failed: ${describe(err)}`, { cause: err });
  } finally {
    // Through a path that has moved, a removal would act wherever it leads now: the staging stays.
    if (target.kind === "s3" || !hasMoved(target.dir)) rmSync(staging, { recursive: true, force: true });
    s3?.close();
  }
}

// ------------------------------------------------------------------------------------------------

/** What the steps of one export share. */
interface ExportRun {
  plan: ExportPlan;
  source: DataSource;
  /** Where files are written before the dataset appears. */
  staging: string;
  /** A local output: checked again before each write (`assertUnmoved`). */
  outputDir?: string;
  s3?: S3Target;
  signal?: AbortSignal;
  progress: ExportReporter;
}

/** An export's running totals, handed to `onProgress` as a copy at each step. */
class ExportReporter {
  readonly state: ExportProgress;

  constructor(
    private readonly tables: number,
    private readonly onProgress?: (p: ExportProgress) => void,
  ) {
    this.state = { phase: "write", files_done: 0, files_total: tables, rows: 0, bytes: 0, fraction: 0 };
  }

  /** `within`: how far the current file has come (0–1). */
  report(within: number, phase: ExportProgress["phase"], table?: string): void {
    const p = this.state;
    p.phase = phase;
    p.table = table;
    p.fraction = phase === "done" ? 1 : Math.min(1, (p.files_done + within) / (this.tables + 0.05));
    this.onProgress?.({ ...p });
  }

  fileDone(table: string, rows: number, bytes: number): void {
    this.state.rows += rows;
    this.state.bytes += bytes;
    this.state.files_done++;
    this.report(0, "write", table);
  }
}

/**
 * A new directory for the files while they are written: beside a local output (the final rename stays
 * on one file system), else in the temporary directory.
 */
function stagingDir(target: OutputTarget): string {
  if (target.kind === "s3") return mkdtempSync(join(tmpdir(), "mevlab-export-"));
  mkdirSync(dirname(target.dir), { recursive: true, mode: 0o700 });
  assertUnmoved(target.dir);
  return mkdtempSync(join(dirname(target.dir), `.${basename(target.dir)}.partial-`));
}

/**
 * resolveOutput checked the output's real path against the roots; a symbolic link put in its way
 * since (a parent swapped for a link to elsewhere) would send the files outside them. The parent is
 * checked again right before each use: its real path must still be the one that was checked, and
 * the output itself must not have become a link.
 */
function assertUnmoved(dir: string): void {
  if (hasMoved(dir)) {
    throw new DataError(`'output' ${dir} changed while the export ran (a symbolic link in its path): refused`, {
      field: "output",
    });
  }
}

function hasMoved(dir: string): boolean {
  const parent = dirname(dir);
  try {
    return realpathSync(parent) !== parent || (existsSync(dir) && lstatSync(dir).isSymbolicLink());
  } catch {
    return true;
  }
}

/** Writes one table's slice into the staging directory, hashes it and, for S3, uploads it. */
async function exportTable(run: ExportRun, t: ExportPlan["tables"][number]): Promise<DatasetFile> {
  const { plan, progress, signal, s3 } = run;
  const name = `${t.table}${plan.extension}`;
  const file = join(run.staging, name);
  progress.report(0, "write", t.table);
  if (run.outputDir) assertUnmoved(run.outputDir);
  const rows = await run.source.writeSlice(t.slice, file, {
    format: plan.format,
    compression: plan.compression,
    signal,
    onProgress: (p) => p.percent !== undefined && progress.report((p.percent / 100) * 0.7, "write", t.table),
  });
  progress.report(0.7, "hash", t.table);
  chmodSync(file, 0o600); // DuckDB writes under the umask
  const { sha256, bytes } = await hashFile(file);
  if (s3) {
    progress.report(0.75, "upload", t.table);
    await s3.upload(name, file, bytes, signal, (sent) =>
      progress.report(0.75 + 0.25 * (bytes ? sent / bytes : 1), "upload", t.table),
    );
    rmSync(file);
  }
  progress.fileDone(t.table, rows, bytes);
  return { path: name, table: t.table, rows, bytes, sha256 };
}

function manifestOf(run: ExportRun, files: DatasetFile[]): DatasetManifest {
  const { plan, source, progress } = run;
  return {
    manifest_version: 1,
    kind: "mevlab.dataset",
    created_at: new Date().toISOString(),
    format: plan.format,
    compression: plan.compression,
    source: { kind: source.kind, location: source.location },
    filters: plan.filters,
    files,
    rows: progress.state.rows,
    bytes: progress.state.bytes,
    schema: Object.fromEntries(plan.tables.map((t) => [t.table, schemaOf(t.table)])),
  };
}

/** The manifest comes last; a local dataset appears by renaming its staging directory into place. */
async function publish(run: ExportRun, target: OutputTarget, manifest: Buffer): Promise<void> {
  if (run.s3) {
    await run.s3.put("manifest.json", manifest);
    return;
  }
  const dir = (target as { dir: string }).dir;
  assertUnmoved(dir);
  writeFileSync(join(run.staging, "manifest.json"), manifest, { mode: 0o600 });
  if (existsSync(dir)) rmdirSync(dir); // checked empty by resolveOutput; a new file there now makes this fail
  renameSync(run.staging, dir); // made by mkdtemp: 0700, the files in it 0600
}
