/**
 * A dataset's `manifest.json`: its format, the id (sha256 of the manifest's bytes) that training
 * lineage refers to, and the check that re-reads every file against it.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Readable } from "node:stream";
import { DataError, describe } from "../errors";
import { parseS3 } from "./export-output";
import { S3Target, type S3Settings } from "./export-s3";
import type { FileCompression, FileFormat } from "./slice";

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

export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
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
