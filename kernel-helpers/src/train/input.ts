/** What train() reads: an Arrow table or a slice, written to a temporary Arrow IPC file, or a path. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Table, tableToIPC } from "apache-arrow";
import { DataError } from "../errors";
import type { ReadOptions } from "../data/progress";
import { dataSource, type DataSource, type SliceSpec } from "../data/slice";

/** An Arrow table, a slice of the event store, or a dataset directory / Arrow / Parquet file path. */
export type TrainInput = Table | SliceSpec | string;

export interface PreparedInput {
  /** What the trainer's `--input` gets. */
  path: string;
  /** Removes the temporary file, if one was written. */
  cleanup(): void;
}

export interface InputOptions {
  /** Where the temporary Arrow file goes (default the OS temp dir). */
  workDir?: string;
  /** The slice's source (default `dataSource()`). */
  source?: DataSource;
  signal?: AbortSignal;
  onSliceProgress?: ReadOptions["onProgress"];
}

/** Writes a table or a slice as an Arrow IPC file; a path passes through. */
export async function prepareInput(input: TrainInput, opts: InputOptions = {}): Promise<PreparedInput> {
  if (typeof input === "string") return { path: resolve(input), cleanup: () => undefined };
  let table: Table;
  if (input instanceof Table) {
    table = input;
  } else if (input && typeof input === "object" && typeof (input as SliceSpec).stream === "string") {
    const source = opts.source ?? dataSource();
    table = await source.slice(input as SliceSpec, { signal: opts.signal, onProgress: opts.onSliceProgress });
  } else {
    throw new DataError("train() takes an Arrow Table, a slice spec ({ stream, from, to, … }) or a path", {
      field: "input",
    });
  }
  if (opts.workDir) mkdirSync(opts.workDir, { recursive: true });
  const dir = mkdtempSync(join(opts.workDir ?? tmpdir(), "mevlab-train-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const path = join(dir, "input.arrow");
    await writeFile(path, tableToIPC(table, "file"));
    return { path, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
