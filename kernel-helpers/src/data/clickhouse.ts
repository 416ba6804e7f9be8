/**
 * ClickHouse over HTTP through `@clickhouse/client`: queries with server-side query parameters (never
 * string interpolation) answered as Arrow record batches (`FORMAT ArrowStream`, compressed as asked
 * and decoded by `readArrowBatches`), plus JSON rows, commands and inserts.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { createClient, ClickHouseLogLevel, type ClickHouseClient, type ClickHouseSettings } from "@clickhouse/client";
import type { RecordBatch, Table, TypeMap } from "apache-arrow";
import { ClickHouseError, DataError, DecodeError, describe } from "../errors";
import { readArrowBatches } from "./arrow";
import { batchesToTable, type Progress, type ReadOptions } from "./progress";

export type ArrowCompression = "lz4_frame" | "zstd" | "none";

export interface ClickHouseOptions {
  /** `http(s)://user:password@host:port/database`; the path is the database (default `mevlab`, the sink's). */
  url: string;
  /** Record-batch compression asked of the server (default `lz4_frame`, ClickHouse's own default). */
  arrowCompression?: ArrowCompression;
  /** Per-request timeout (default 300 s). */
  requestTimeoutMs?: number;
  /** Extra settings sent with every query. */
  settings?: ClickHouseSettings;
}

/** Query parameters: names as in `{name:Type}` placeholders; ClickHouse parses each value as its type. */
export type QueryParams = Record<string, string | number | bigint | boolean | Date | null | ReadonlyArray<unknown>>;

export class ClickHouseSource {
  readonly database: string;
  /** The URL without credentials, for messages. */
  readonly displayUrl: string;
  private readonly client: ClickHouseClient;
  private readonly compression: ArrowCompression;
  private serverVersion?: Promise<string>;

  constructor(options: ClickHouseOptions) {
    const { origin, username, password, database, display } = parseClickHouseUrl(options.url);
    this.database = database;
    this.displayUrl = display;
    this.compression = options.arrowCompression ?? "lz4_frame";
    this.client = createClient({
      url: origin,
      username,
      password,
      database,
      request_timeout: options.requestTimeoutMs ?? 300_000,
      clickhouse_settings: options.settings,
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** The server's `version()`, asked once. */
  version(): Promise<string> {
    this.serverVersion ??= this.json<{ v: string }>("SELECT version() AS v").then((rows) => rows[0].v);
    return this.serverVersion;
  }

  /** Runs `sql` (no FORMAT clause) and streams the answer as Arrow record batches. */
  async *batches<T extends TypeMap = TypeMap>(
    sql: string,
    params: QueryParams = {},
    options: ReadOptions & { settings?: ClickHouseSettings } = {},
  ): AsyncGenerator<RecordBatch<T>> {
    assertNoFormat(sql);
    if (options.signal?.aborted) throw new DataError("query cancelled");
    const progress: Progress = { rows: 0, bytes: 0, batches: 0, done: false };
    let stream: Readable;
    try {
      const res = await this.client.exec({
        query: `${sql}\nFORMAT ArrowStream`,
        query_params: params,
        abort_signal: options.signal,
        clickhouse_settings: {
          output_format_arrow_compression_method: this.compression,
          output_format_arrow_low_cardinality_as_dictionary: 1,
          output_format_arrow_string_as_string: 1,
          ...options.settings,
        },
      });
      stream = res.stream;
    } catch (err) {
      throw await this.explain(err, sql);
    }
    const tail = { bytes: Buffer.alloc(0) };
    const counted = countBytes(stream, progress, tail);
    try {
      for await (const batch of readArrowBatches<T>(counted)) {
        if (options.signal?.aborted) throw new DataError("query cancelled");
        progress.rows += batch.numRows;
        progress.batches++;
        options.onProgress?.({ ...progress });
        yield batch;
      }
    } catch (err) {
      const text = tail.bytes.toString("latin1");
      const at = text.lastIndexOf("Code: ");
      if (options.signal?.aborted) throw new DataError("query cancelled", { cause: err });
      if (at >= 0) throw clickHouseError(text.slice(at), err);
      throw err instanceof DecodeError ? err : await this.explain(err, sql);
    } finally {
      stream.destroy();
    }
    progress.done = true;
    options.onProgress?.({ ...progress });
  }

  /**
   * Runs `sql` and writes ClickHouse's answer in `format` (e.g. `Parquet`) to `file` as it arrives,
   * returning the bytes written. A Parquet answer cut short by a server-side exception is recognised.
   */
  async download(
    sql: string,
    params: QueryParams,
    file: string,
    options: { format: string; settings?: ClickHouseSettings; signal?: AbortSignal; onBytes?: (n: number) => void },
  ): Promise<number> {
    assertNoFormat(sql);
    if (options.signal?.aborted) throw new DataError("query cancelled");
    let stream: Readable;
    try {
      const res = await this.client.exec({
        query: `${sql}\nFORMAT ${options.format}`,
        query_params: params,
        abort_signal: options.signal,
        clickhouse_settings: options.settings,
      });
      stream = res.stream;
    } catch (err) {
      throw await this.explain(err, sql);
    }
    const progress: Progress = { rows: 0, bytes: 0, batches: 0, done: false };
    const tail = { bytes: Buffer.alloc(0) };
    const out = createWriteStream(file);
    try {
      for await (const chunk of countBytes(stream, progress, tail)) {
        if (!out.write(chunk)) await once(out, "drain");
        options.onBytes?.(progress.bytes);
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    } catch (err) {
      out.destroy();
      if (options.signal?.aborted) throw new DataError("query cancelled", { cause: err });
      throw await this.explain(err, sql);
    } finally {
      stream.destroy();
    }
    const text = tail.bytes.toString("latin1");
    if (options.format === "Parquet" && !text.endsWith("PAR1")) {
      const at = text.lastIndexOf("Code: ");
      if (at >= 0) throw clickHouseError(text.slice(at), undefined);
      throw new DecodeError(`ClickHouse's Parquet answer ended after ${progress.bytes} bytes without a footer`);
    }
    return progress.bytes;
  }

  /** Runs `sql` and returns the whole answer as one Arrow table. */
  async table<T extends TypeMap = TypeMap>(
    sql: string,
    params: QueryParams = {},
    options: ReadOptions & { settings?: ClickHouseSettings } = {},
  ): Promise<Table<T>> {
    return batchesToTable(this.batches<T>(sql, params, options));
  }

  /** Runs `sql` and returns JSON rows (64-bit integers as strings, as ClickHouse sends them). */
  async json<R = Record<string, unknown>>(sql: string, params: QueryParams = {}, signal?: AbortSignal): Promise<R[]> {
    assertNoFormat(sql);
    try {
      const rs = await this.client.query({
        query: sql,
        query_params: params,
        format: "JSONEachRow",
        abort_signal: signal,
      });
      return await rs.json<R>();
    } catch (err) {
      throw await this.explain(err, sql);
    }
  }

  /** Runs a statement that returns nothing (DDL, INSERT … SELECT). */
  async command(sql: string, params: QueryParams = {}): Promise<void> {
    try {
      await this.client.command({ query: sql, query_params: params });
    } catch (err) {
      throw await this.explain(err, sql);
    }
  }

  /** Inserts rows (objects keyed by column) with JSONEachRow. */
  async insert(table: string, rows: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(table)) {
      throw new DataError(`table name ${JSON.stringify(table)} is not a plain identifier`, { field: "table" });
    }
    try {
      await this.client.insert({ table, values: rows as Record<string, unknown>[], format: "JSONEachRow" });
    } catch (err) {
      throw await this.explain(err, `INSERT INTO ${table}`);
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** Turns a client error into a ClickHouseError with ClickHouse's code, naming the server and, for old servers, what they lack. */
  private async explain(err: unknown, sql: string): Promise<Error> {
    if (err instanceof ClickHouseError || err instanceof DataError) return err;
    const message = describe(err);
    if (
      /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|socket hang up|Timeout/i.test(message) &&
      !/Code: \d+/.test(message)
    ) {
      return new ClickHouseError(`cannot reach ClickHouse at ${this.displayUrl}: ${message}`, { cause: err });
    }
    const e = clickHouseError(message, err);
    if ((e.code === 73 && /ArrowStream/.test(message)) || (e.code === 115 && /output_format_arrow/.test(message))) {
      const v = await this.version().catch(() => "unknown");
      return new ClickHouseError(
        `ClickHouse ${v} at ${this.displayUrl} cannot send FORMAT ArrowStream (it needs ClickHouse 20.x or newer)`,
        { code: 73, cause: err },
      );
    }
    if (e.code === 115 && /param_/.test(message)) {
      const v = await this.version().catch(() => "unknown");
      return new ClickHouseError(
        `ClickHouse ${v} at ${this.displayUrl} does not support query parameters (it needs 19.x or newer): ${firstLine(sql)}`,
        { code: 115, cause: err },
      );
    }
    return e;
  }
}

function clickHouseError(text: string, cause: unknown): ClickHouseError {
  const m =
    /Code: (\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:DB::Exception: )?([\s\S]*?)(?:, e\.what\(\) = DB::Exception|\s*\(version [^)]*\))?\s*$/.exec(
      text.trim(),
    );
  if (!m) return new ClickHouseError(`ClickHouse: ${text.trim()}`, { cause });
  return new ClickHouseError(`ClickHouse error ${m[1]}: ${m[2].trim()}`, { code: Number(m[1]), cause });
}

function firstLine(sql: string): string {
  const line = sql.trim().split("\n")[0];
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

function assertNoFormat(sql: string): void {
  if (/\bFORMAT\s+[A-Za-z]+\s*;?\s*$/i.test(sql)) {
    throw new DataError("leave the FORMAT clause out: the helper asks for the format it decodes", { field: "sql" });
  }
}

/** Counts bytes as they pass and keeps the last 8 KiB (where ClickHouse writes an exception that happens mid-stream). */
async function* countBytes(stream: Readable, progress: Progress, tail: { bytes: Buffer }): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    progress.bytes += chunk.length;
    // only the chunk's last 8 KiB is copied, not every byte of the stream
    const keep = Buffer.concat([tail.bytes, chunk.subarray(-8192)]);
    tail.bytes = keep.length > 8192 ? keep.subarray(-8192) : keep;
    yield chunk;
  }
}

/** The database mevlab's event sink writes to when the URL names none. */
export const DEFAULT_DATABASE = "mevlab";

/** Splits a ClickHouse URL into client options; the password never appears in `display`. */
export function parseClickHouseUrl(url: string): {
  origin: string;
  username: string;
  password: string;
  database: string;
  display: string;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DataError(`CLICKHOUSE_URL is not a URL: ${JSON.stringify(url.replace(/\/\/[^@/]*@/, "//***@"))}`, {
      field: "url",
    });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new DataError(`CLICKHOUSE_URL must be http(s)://user:password@host:port/database, not ${u.protocol}`, {
      field: "url",
    });
  }
  const database = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, "")) || DEFAULT_DATABASE;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new DataError(`CLICKHOUSE_URL: bad database name ${JSON.stringify(database)}`, { field: "url" });
  }
  return {
    origin: u.origin,
    username: decodeURIComponent(u.username) || "default",
    password: decodeURIComponent(u.password),
    database,
    display: `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ""}${u.host}/${database}`,
  };
}
