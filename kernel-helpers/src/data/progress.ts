import { Table, type RecordBatch, type TypeMap } from "apache-arrow";

/** How far a read has come: rows decoded, bytes received (compressed, as on the wire), batches. */
export interface Progress {
  rows: number;
  bytes: number;
  batches: number;
  done: boolean;
}

export interface ReadOptions {
  /** Aborts the request; the iteration then throws a DataError("… cancelled"). */
  signal?: AbortSignal;
  /** Called after every record batch and once at the end (`done: true`). */
  onProgress?: (p: Progress) => void;
}

/** Collects record batches into one table (no copy of the columns). */
export async function batchesToTable<T extends TypeMap>(batches: AsyncIterable<RecordBatch<T>>): Promise<Table<T>> {
  const all: RecordBatch<T>[] = [];
  for await (const b of batches) all.push(b);
  return all.length ? new Table<T>(all) : new Table<T>();
}
