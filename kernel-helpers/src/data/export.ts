/**
 * Dataset exports: slices of the event store written as Parquet or JSON lines into a new local directory
 * or under an S3 prefix, with a `manifest.json` (files, rows, bytes, sha256 of each file, schema,
 * filters, source, created_at). The sha256 of the manifest's bytes is the dataset id that training
 * lineage refers to. A dataset appears whole or not at all: files are written to a staging place, and the
 * manifest comes last.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { chmodSync, realpathSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { DataError, describe } from "../errors";
import { dataSource, planSlice, type DataSource, type FileCompression, type FileFormat, type TimeBound } from "./slice";
import { DUCKDB_TYPE, EVENT_TABLES, STREAM_ALIASES, streamTable, type ColumnType, type EventTable } from "./streams";

export interface ExportSpec {
  /** Streams to export: `arb`, `mev`, `outcomes`, `metrics` (or table names); one file each. */
  types: readonly string[];
  /** Inclusive start and exclusive end, as for slices. */
  from: TimeBound;
  to: TimeBound;
  /** DEX names; they filter the opportunity streams (arb, mev) and leave the others whole. */
  dex?: readonly string[];
  /** `arbitrage` / `mev`. */
  modules?: readonly string[];
  /** Default `parquet`. */
  format?: FileFormat;
  /** Default `zstd` (inside Parquet pages, or of the whole JSON-lines file). */
  compression?: FileCompression;
  /** A new (or empty) directory inside an allowed root, or `s3://bucket/prefix`. */
  output: string;
}

/** Where S3 outputs go; unset fields come from the usual AWS environment variables. */
export interface S3Settings {
  /** e.g. `http://127.0.0.1:9000`; default `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, else AWS. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing (default on when an endpoint is given). */
  forcePathStyle?: boolean;
}

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

export interface DatasetFile {
  /** Relative to the dataset root. */
  path: string;
  table: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface DatasetManifest {
  manifest_version: 1;
  kind: "mevlab.dataset";
  created_at: string;
  format: FileFormat;
  compression: FileCompression;
  source: { kind: "clickhouse" | "local"; location: string };
  filters: {
    types: string[];
    from: string;
    to: string;
    dex: string[] | null;
    /** The tables the DEX filter applied to. */
    dex_applies_to: string[];
    modules: string[] | null;
  };
  files: DatasetFile[];
  rows: number;
  bytes: number;
  /** Columns of each table: name, DuckDB / Parquet type. */
  schema: Record<string, Array<{ name: string; type: string }>>;
}

export interface ExportResult {
  /** `sha256:<hex>` of manifest.json's bytes. */
  id: string;
  /** Where the dataset is: an absolute directory or `s3://bucket/prefix`. */
  output: string;
  manifest: DatasetManifest;
}

export type OutputTarget =
  { kind: "local"; dir: string; uri: string } | { kind: "s3"; bucket: string; prefix: string; uri: string };

const FORMATS: readonly FileFormat[] = ["parquet", "jsonl"];
const COMPRESSIONS: readonly FileCompression[] = ["zstd", "gzip", "none"];
const SPEC_FIELDS = new Set(["types", "from", "to", "dex", "modules", "format", "compression", "output"]);
const OPPORTUNITY_TABLES = new Set<EventTable>(["arb_opportunities", "mev_opportunities"]);
const MIN_PART = 5 * 1024 * 1024;

/** The export roots from `MEVLAB_EXPORT_ROOTS`, or the current directory. */
export function defaultExportRoots(): string[] {
  const env = process.env.MEVLAB_EXPORT_ROOTS;
  const roots = env
    ? env
        .split(",")
        .map((r) => r.trim())
        .filter(Boolean)
    : [];
  return roots.length ? roots : [process.cwd()];
}

/**
 * Checks an output against the allowed roots: no `..` segments, no control characters, a new place
 * strictly inside a root (symbolic links resolved, so a link cannot lead outside).
 */
export function resolveOutput(output: unknown, roots: readonly string[] = defaultExportRoots()): OutputTarget {
  const bad = (message: string) => new DataError(message, { field: "output" });
  if (typeof output !== "string" || output.trim() === "") {
    throw bad("'output' must be a directory path or s3://bucket/prefix");
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(output)) throw bad("'output' contains control characters");
  const segments = output.split(/[\\/]+/);
  if (segments.includes("..")) throw bad(`'output' ${JSON.stringify(output)} contains '..': path traversal is refused`);
  const s3Roots = roots.filter((r) => r.startsWith("s3://")).map((r) => parseS3(r, "allowed root"));
  const localRoots = roots.filter((r) => !r.startsWith("s3://")).map((r) => canonical(resolve(r)));
  if (output.startsWith("s3://")) {
    const { bucket, prefix } = parseS3(output, "'output'");
    if (!prefix) throw bad(`'output' ${output} needs a prefix inside the bucket (s3://${bucket}/name)`);
    const inside = s3Roots.some((r) => r.bucket === bucket && (r.prefix === "" || prefix.startsWith(`${r.prefix}/`)));
    if (!inside) {
      throw bad(
        `'output' ${output} is outside the allowed export roots ` +
          `(${s3Roots.length ? s3Roots.map((r) => `s3://${r.bucket}/${r.prefix}`).join(", ") : "no S3 roots"}); ` +
          "add the bucket to MEVLAB_EXPORT_ROOTS",
      );
    }
    return { kind: "s3", bucket, prefix, uri: `s3://${bucket}/${prefix}` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(output)) {
    throw bad(`'output' ${JSON.stringify(output)}: only local directories and s3:// are supported`);
  }
  if (localRoots.length === 0) throw bad("no local export roots are allowed here; use an s3:// output");
  const dir = canonical(isAbsolute(output) ? resolve(output) : resolve(localRoots[0], output));
  const root = localRoots.find((r) => dir.startsWith(r.endsWith(sep) ? r : r + sep));
  if (!root) {
    throw bad(
      `'output' ${dir} is outside the allowed export roots (${localRoots.join(", ")}); see MEVLAB_EXPORT_ROOTS`,
    );
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw bad(`'output' ${dir} exists and is not a directory`);
    if (readdirSync(dir).length) throw bad(`'output' ${dir} already exists and is not empty; exports never overwrite`);
  }
  return { kind: "local", dir, uri: dir };
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
  const progress: ExportProgress = {
    phase: "write",
    files_done: 0,
    files_total: plan.tables.length,
    rows: 0,
    bytes: 0,
    fraction: 0,
  };
  const report = (within: number, phase: ExportProgress["phase"], table?: string) => {
    progress.phase = phase;
    progress.table = table;
    progress.fraction =
      phase === "done" ? 1 : Math.min(1, (progress.files_done + within) / (plan.tables.length + 0.05));
    options.onProgress?.({ ...progress });
  };
  const s3 = target.kind === "s3" ? await S3Target.open(target, options) : undefined;
  const staging =
    target.kind === "local"
      ? (mkdirSync(dirname(target.dir), { recursive: true }),
        mkdtempSync(join(dirname(target.dir), `.${basename(target.dir)}.partial-`)))
      : mkdtempSync(join(tmpdir(), "mevlab-export-"));
  try {
    const files: DatasetFile[] = [];
    for (const t of plan.tables) {
      if (options.signal?.aborted) throw new DataError("export cancelled");
      const name = `${t.table}${plan.extension}`;
      const file = join(staging, name);
      report(0, "write", t.table);
      const rows = await source.writeSlice(t.slice, file, {
        format: plan.format,
        compression: plan.compression,
        signal: options.signal,
        onProgress: (p) => p.percent !== undefined && report((p.percent / 100) * 0.7, "write", t.table),
      });
      report(0.7, "hash", t.table);
      const { sha256, bytes } = await hashFile(file);
      if (s3) {
        report(0.75, "upload", t.table);
        await s3.upload(name, file, bytes, options.signal, (sent) =>
          report(0.75 + 0.25 * (bytes ? sent / bytes : 1), "upload", t.table),
        );
        rmSync(file);
      }
      files.push({ path: name, table: t.table, rows, bytes, sha256 });
      progress.rows += rows;
      progress.bytes += bytes;
      progress.files_done++;
      report(0, "write", t.table);
    }
    const manifest: DatasetManifest = {
      manifest_version: 1,
      kind: "mevlab.dataset",
      created_at: new Date().toISOString(),
      format: plan.format,
      compression: plan.compression,
      source: { kind: source.kind, location: source.location },
      filters: plan.filters,
      files,
      rows: progress.rows,
      bytes: progress.bytes,
      schema: Object.fromEntries(plan.tables.map((t) => [t.table, schemaOf(t.table)])),
    };
    const text = Buffer.from(JSON.stringify(manifest, null, 2) + "\n");
    const id = datasetId(text);
    report(0, "manifest");
    if (options.signal?.aborted) throw new DataError("export cancelled");
    if (s3) {
      await s3.put("manifest.json", text);
    } else {
      writeFileSync(join(staging, "manifest.json"), text);
      const dir = (target as { dir: string }).dir;
      if (existsSync(dir)) rmdirSync(dir); // checked empty above; a new file there now makes this fail
      chmodSync(staging, 0o755);
      renameSync(staging, dir);
    }
    report(0, "done");
    return { id, output: target.uri, manifest };
  } catch (err) {
    await s3?.removeWritten();
    throw err instanceof DataError
      ? err
      : new DataError(`export to ${target.uri} failed: ${describe(err)}`, { cause: err });
  } finally {
    rmSync(staging, { recursive: true, force: true });
    s3?.close();
  }
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  manifest: DatasetManifest;
  files: Array<{ path: string; ok: boolean; sha256: string; bytes: number; problem?: string }>;
}

/** Re-reads a dataset and checks every file's size and sha256 against its manifest. */
export async function verifyDataset(
  output: string,
  options: { s3?: S3Settings; signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  let read: (path: string) => Promise<Readable>;
  let close = () => {};
  if (output.startsWith("s3://")) {
    const { bucket, prefix } = parseS3(output, "dataset");
    const target = await S3Target.open({ kind: "s3", bucket, prefix, uri: output }, { s3: options.s3 }, false);
    read = (p) => target.get(p);
    close = () => target.close();
  } else {
    read = async (p) => createReadStream(join(output, p));
  }
  try {
    const text = await readAll(await read("manifest.json"));
    let manifest: DatasetManifest;
    try {
      manifest = JSON.parse(text.toString("utf8")) as DatasetManifest;
    } catch (err) {
      throw new DataError(`${output}/manifest.json is not JSON: ${describe(err)}`, { cause: err });
    }
    if (manifest?.kind !== "mevlab.dataset" || !Array.isArray(manifest.files)) {
      throw new DataError(`${output}/manifest.json is not a mevlab dataset manifest`);
    }
    const files: VerifyResult["files"] = [];
    for (const f of manifest.files) {
      if (typeof f.path !== "string" || f.path.split(/[\\/]/).includes("..") || isAbsolute(f.path)) {
        files.push({ path: String(f.path), ok: false, sha256: "", bytes: 0, problem: "path outside the dataset" });
        continue;
      }
      try {
        const { sha256, bytes } = await hashStream(await read(f.path));
        const problem =
          bytes !== f.bytes ? `size ${bytes} ≠ ${f.bytes}` : sha256 !== f.sha256 ? "sha256 differs" : undefined;
        files.push({ path: f.path, ok: !problem, sha256, bytes, problem });
      } catch (err) {
        files.push({ path: f.path, ok: false, sha256: "", bytes: 0, problem: describe(err) });
      }
    }
    return { id: datasetId(text), ok: files.every((f) => f.ok), manifest, files };
  } finally {
    close();
  }
}

/** `sha256:<hex>` of a manifest's bytes. */
export function datasetId(manifestBytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(manifestBytes).digest("hex")}`;
}

// ------------------------------------------------------------------------------------------------

interface ExportPlan {
  format: FileFormat;
  compression: FileCompression;
  extension: string;
  tables: Array<{ table: EventTable; slice: Parameters<typeof planSlice>[0] }>;
  filters: DatasetManifest["filters"];
}

function planExport(spec: ExportSpec): ExportPlan {
  if (!spec || typeof spec !== "object") {
    throw new DataError("exportDataset needs { types, from, to, output, … }", { field: "spec" });
  }
  for (const k of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(k)) {
      throw new DataError(`unknown export field '${k}' (known: ${[...SPEC_FIELDS].join(", ")})`, { field: k });
    }
  }
  const format = spec.format ?? "parquet";
  if (!FORMATS.includes(format)) {
    throw new DataError(`'format' must be one of ${FORMATS.join(", ")}, not ${JSON.stringify(format)}`, {
      field: "format",
    });
  }
  const compression = spec.compression ?? "zstd";
  if (!COMPRESSIONS.includes(compression)) {
    throw new DataError(`'compression' must be one of ${COMPRESSIONS.join(", ")}, not ${JSON.stringify(compression)}`, {
      field: "compression",
    });
  }
  if (!Array.isArray(spec.types) || spec.types.length === 0) {
    throw new DataError(`'types' must be a non-empty list of streams (${Object.keys(STREAM_ALIASES).join(", ")})`, {
      field: "types",
    });
  }
  const tables: EventTable[] = [];
  for (const t of spec.types) {
    const table = streamTable(t);
    if (!table) {
      throw new DataError(
        `unknown type ${JSON.stringify(t)} in 'types' (use ${Object.keys(STREAM_ALIASES).join(", ")})`,
        {
          field: "types",
        },
      );
    }
    if (!tables.includes(table)) tables.push(table);
  }
  const dexTables = spec.dex === undefined ? [] : tables.filter((t) => OPPORTUNITY_TABLES.has(t));
  if (spec.dex !== undefined && dexTables.length === 0) {
    throw new DataError("'dex' filters the opportunity streams (arb, mev), and 'types' has neither", { field: "dex" });
  }
  const planned = tables.map((table) => {
    const slice = {
      stream: table,
      from: spec.from,
      to: spec.to,
      ...(spec.modules !== undefined ? { modules: spec.modules } : {}),
      ...(spec.dex !== undefined && OPPORTUNITY_TABLES.has(table) ? { dex: spec.dex } : {}),
    };
    // every filter checked before anything is written
    return { table, slice, plan: planSlice(slice) };
  });
  const first = planned[0].plan;
  return {
    format,
    compression,
    extension:
      format === "parquet" ? ".parquet" : { zstd: ".jsonl.zst", gzip: ".jsonl.gz", none: ".jsonl" }[compression],
    tables: planned.map(({ table, slice }) => ({ table, slice })),
    filters: {
      types: [...spec.types],
      from: new Date(first.fromMs).toISOString(),
      to: new Date(first.toMs).toISOString(),
      dex: spec.dex ? [...spec.dex] : null,
      dex_applies_to: dexTables,
      modules: spec.modules ? [...spec.modules] : null,
    },
  };
}

function schemaOf(table: EventTable): Array<{ name: string; type: string }> {
  return (EVENT_TABLES[table] as ReadonlyArray<readonly [string, ColumnType]>).map(([name, t]) => ({
    name,
    type: DUCKDB_TYPE[t],
  }));
}

/** The real path of `p`: its deepest existing ancestor resolved through symbolic links, plus the rest. */
function canonical(p: string): string {
  let existing = p;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const real = existsSync(existing) ? realpathSync(existing) : existing;
  return join(real, relative(existing, p));
}

function parseS3(uri: string, what: string): { bucket: string; prefix: string } {
  const rest = uri.slice("s3://".length);
  const [bucket, ...parts] = rest.split("/");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new DataError(`${what} ${uri}: ${JSON.stringify(bucket)} is not a valid bucket name`, { field: "output" });
  }
  while (parts.length && parts[parts.length - 1] === "") parts.pop();
  if (parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new DataError(`${what} ${uri} has an empty, '.' or '..' segment`, { field: "output" });
  }
  return { bucket, prefix: parts.join("/") };
}

async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  return hashStream(createReadStream(file, { highWaterMark: 1 << 20 }));
}

async function hashStream(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

type S3Module = typeof import("@aws-sdk/client-s3");

/** One export's S3 prefix: refuses a non-empty one, uploads files in parts, removes what it wrote on failure. */
class S3Target {
  private readonly written: string[] = [];

  private constructor(
    private readonly sdk: S3Module,
    private readonly client: import("@aws-sdk/client-s3").S3Client,
    private readonly target: Extract<OutputTarget, { kind: "s3" }>,
    private readonly partSize: number,
  ) {}

  static async open(
    target: Extract<OutputTarget, { kind: "s3" }>,
    options: Pick<ExportOptions, "s3" | "partSizeBytes">,
    mustBeEmpty = true,
  ): Promise<S3Target> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@aws-sdk/client-s3") as S3Module;
    const s = options.s3 ?? {};
    const endpoint = s.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const client = new sdk.S3Client({
      endpoint,
      region: s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
      forcePathStyle: s.forcePathStyle ?? Boolean(endpoint),
      // The SDK's default CRC32 checksum headers are refused by many S3-compatible servers; the
      // manifest's sha256 is the integrity check that matters here.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      credentials:
        s.accessKeyId && s.secretAccessKey
          ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
          : undefined,
    });
    const partSize = options.partSizeBytes ?? 8 * 1024 * 1024;
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART) {
      throw new DataError(`'partSizeBytes' must be an integer ≥ ${MIN_PART} (S3's minimum part size)`, {
        field: "partSizeBytes",
      });
    }
    const t = new S3Target(sdk, client, target, partSize);
    if (mustBeEmpty) {
      try {
        const listed = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${target.prefix}/`, MaxKeys: 1 }),
        );
        if ((listed.KeyCount ?? 0) > 0) {
          throw new DataError(`'output' ${target.uri} already holds objects; exports never overwrite`, {
            field: "output",
          });
        }
      } catch (err) {
        client.destroy();
        throw err instanceof DataError ? err : s3Error(err, target.uri);
      }
    }
    return t;
  }

  private key(name: string): string {
    return `${this.target.prefix}/${name}`;
  }

  async upload(
    name: string,
    file: string,
    bytes: number,
    signal: AbortSignal | undefined,
    onSent: (bytes: number) => void,
  ): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Upload } = require("@aws-sdk/lib-storage") as typeof import("@aws-sdk/lib-storage");
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.target.bucket, Key: this.key(name), Body: createReadStream(file), ContentLength: bytes },
      partSize: this.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    upload.on("httpUploadProgress", (p) => p.loaded !== undefined && onSent(p.loaded));
    const abort = () => void upload.abort();
    signal?.addEventListener("abort", abort, { once: true });
    this.written.push(this.key(name));
    try {
      await upload.done();
    } catch (err) {
      if (signal?.aborted) throw new DataError("export cancelled", { cause: err });
      throw s3Error(err, `s3://${this.target.bucket}/${this.key(name)}`);
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  async put(name: string, body: Uint8Array): Promise<void> {
    this.written.push(this.key(name));
    try {
      await this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket: this.target.bucket,
          Key: this.key(name),
          Body: body,
          ContentType: "application/json",
        }),
      );
    } catch (err) {
      throw s3Error(err, `s3://${this.target.bucket}/${this.key(name)}`);
    }
  }

  async get(name: string): Promise<Readable> {
    try {
      const res = await this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(name) }),
      );
      return res.Body as Readable;
    } catch (err) {
      throw s3Error(err, `s3://${this.target.bucket}/${this.key(name)}`);
    }
  }

  /** Best effort: what this export wrote goes away, so no half dataset stays behind. */
  async removeWritten(): Promise<void> {
    if (this.written.length === 0) return;
    await this.client
      .send(
        new this.sdk.DeleteObjectsCommand({
          Bucket: this.target.bucket,
          Delete: { Objects: this.written.map((Key) => ({ Key })) },
        }),
      )
      .catch(() => undefined);
  }

  close(): void {
    this.client.destroy();
  }
}

function s3Error(err: unknown, where: string): DataError {
  const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.Code ?? e?.name ?? "error";
  const status = e?.$metadata?.httpStatusCode;
  return new DataError(`S3 ${code}${status ? ` (HTTP ${status})` : ""} at ${where}: ${e?.message ?? String(err)}`, {
    field: "output",
    cause: err,
  });
}
