import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { TABLES, clickHouseDdl, tableSpec } from "./tables";
import { CLICKHOUSE_TYPE, DUCKDB_TYPE, parseClickHouseUrl as parseUrl } from "@mevlab/kernel-helpers";

/** Rows of one table inside one spool segment, as JSON object lines, grouped by hour partition. */
export interface SegmentRows {
  table: string;
  /** UTC date and hour of the rows' ts_ms, e.g. "2026-11-24", "07". */
  date: string;
  hour: string;
  rows: number;
  /**
   * The rows as newline-terminated JSON (UTF-8). Bytes outside the V8 heap: a row is a short-lived
   * string, not one that lives through several young-generation collections until its batch is written.
   */
  ndjson: Buffer;
}

/** Where the sink writes. `write` is idempotent per segment id where the store allows it. */
export interface EventStore {
  readonly kind: "parquet" | "clickhouse";
  open(): Promise<void>;
  /** Writes one group of a segment; the sink calls it again for a group that failed. */
  write(segmentId: string, group: SegmentRows): Promise<void>;
  close(): Promise<void>;
}

/**
 * The embedded store: Parquet (zstd) under `<root>/<table>/date=YYYY-MM-DD/hour=HH/`. Each file is
 * written under a hidden temporary name and renamed, so readers globbing `*.parquet` never see half a
 * file; it is named after its spool segment, so a retried segment replaces its own file instead of
 * adding a second copy.
 */
export class ParquetStore implements EventStore {
  readonly kind = "parquet";
  private db?: DuckDBInstance;
  private conn?: DuckDBConnection;
  private readonly tmp: string;

  constructor(readonly root: string) {
    this.tmp = join(root, ".tmp");
  }

  async open(): Promise<void> {
    mkdirSync(this.tmp, { recursive: true, mode: 0o700 });
    this.db = await DuckDBInstance.create(":memory:", { threads: "1" });
    this.conn = await this.db.connect();
  }

  async write(segmentId: string, g: SegmentRows): Promise<void> {
    if (!this.conn) throw new Error("parquet store is not open");
    {
      const spec = tableSpec(g.table);
      if (!spec) throw new Error(`unknown table ${g.table}`);
      const dir = join(this.root, g.table, `date=${g.date}`, `hour=${g.hour}`);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const input = join(this.tmp, `${segmentId}-${g.table}-${g.date}-${g.hour}.ndjson`);
      const partial = join(dir, `.part-${segmentId}.parquet.tmp`);
      writeFileSync(input, g.ndjson, { mode: 0o600 });
      const columns = spec.columns.map(([n, t]) => `${n}: '${DUCKDB_TYPE[t]}'`).join(", ");
      try {
        await this.conn.run(
          `COPY (SELECT epoch_ms(ts_ms::BIGINT) AS ts, * FROM read_json(${sqlString(input)}, ` +
            `format = 'newline_delimited', columns = {${columns}})) ` +
            `TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        // DuckDB creates it under the process's umask.
        chmodSync(partial, 0o600);
        renameSync(partial, join(dir, `part-${segmentId}.parquet`));
      } finally {
        rmSync(input, { force: true });
        rmSync(partial, { force: true });
      }
    }
  }

  async close(): Promise<void> {
    this.conn?.closeSync();
    this.db?.closeSync();
    this.conn = undefined;
    this.db = undefined;
  }
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Parsed CLICKHOUSE_URL: http(s)://user:password@host:port/database */
export interface ClickHouseTarget {
  url: string;
  user: string;
  password: string;
  database: string;
}

export function parseClickHouseUrl(raw: string): ClickHouseTarget {
  const { origin, username, password, database } = parseUrl(raw);
  return { url: `${origin}/`, user: username, password, database };
}

/** The scale-out store: batched JSONEachRow inserts over ClickHouse's HTTP interface. */
export class ClickHouseStore implements EventStore {
  readonly kind = "clickhouse";

  constructor(readonly target: ClickHouseTarget) {}

  async query(sql: string, body?: string | Buffer): Promise<string> {
    const url = new URL(this.target.url);
    if (body !== undefined) url.searchParams.set("query", sql);
    const res = await fetch(url, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${this.target.user}:${this.target.password}`).toString("base64")}`,
      },
      body: body ?? sql,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse HTTP ${res.status}: ${text.trim().slice(0, 300)}`);
    return text;
  }

  async open(): Promise<void> {
    // The shipped DDL, one statement per request (the HTTP interface takes one at a time).
    const ddl = clickHouseDdl(this.target.database)
      .split("\n")
      .filter((l) => !l.startsWith("--"))
      .join("\n");
    for (const stmt of ddl.split(";").map((s) => s.trim())) if (stmt) await this.query(stmt);
    await this.addMissingColumns();
  }

  /**
   * A table an older version created lacks the columns added since (the market's features): they are
   * added, at the end, before the first insert names them. ClickHouse 18 has no ADD COLUMN IF NOT EXISTS.
   */
  private async addMissingColumns(): Promise<void> {
    const db = this.target.database; // an identifier: parseClickHouseUrl checks it
    for (const t of TABLES) {
      const listed = await this.query(
        `SELECT name FROM system.columns WHERE database = '${db}' AND table = '${t.name}' FORMAT TabSeparated`,
      );
      const have = new Set(listed.split("\n").filter(Boolean));
      const missing = t.columns.filter(([name]) => !have.has(name));
      if (missing.length === 0) continue;
      const adds = missing.map(([name, type]) => `ADD COLUMN ${name} ${CLICKHOUSE_TYPE[type]}`);
      await this.query(`ALTER TABLE ${db}.${t.name} ${adds.join(", ")}`);
    }
  }

  async write(_segmentId: string, g: SegmentRows): Promise<void> {
    await this.query(`INSERT INTO ${this.target.database}.${g.table} FORMAT JSONEachRow`, g.ndjson);
  }

  async close(): Promise<void> {}
}
