// Dataset exports from the local store: every format and compression read back with DuckDB, manifest
// rows / bytes / sha256 checked, a multipart upload to a real S3-compatible server (s3proxy from Maven
// Central), bad outputs and bad filters refused before anything is written, cancellation leaves nothing.
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  DataError,
  DataSource,
  exportDataset,
  resolveOutput,
  verifyDataset,
  type ExportProgress,
  type ExportSpec,
  type S3Settings,
} from "@mevlab/kernel-helpers";
import { startS3Proxy, type S3Server } from "../src/s3proxy";
import { writeSyntheticArbStore } from "../src/synthetic";

const T0 = Date.parse("2026-11-20T00:00:00Z");
const HOUR = 3_600_000;
const ROWS = 120_000; // over 4 hours: 30,000 an hour

describe("dataset export", { timeout: 300_000 }, () => {
  let dataDir: string;
  let roots: string;
  let source: DataSource;
  let db: DuckDBInstance;
  let conn: DuckDBConnection;

  const count = async (sql: string): Promise<number> => Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
  const base = (over: Partial<ExportSpec>): ExportSpec => ({
    types: ["arb"],
    from: T0,
    to: T0 + 4 * HOUR,
    output: "x",
    ...over,
  });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mevlab-export-data-"));
    roots = mkdtempSync(join(tmpdir(), "mevlab-exports-"));
    await writeSyntheticArbStore(join(dataDir, "events"), ROWS, T0, 4);
    source = new DataSource({ dataDir, clickhouseUrl: "" });
    db = await DuckDBInstance.create(":memory:");
    conn = await db.connect();
  });
  after(async () => {
    conn?.closeSync();
    db?.closeSync();
    await source?.close();
  });

  for (const format of ["parquet", "jsonl"] as const) {
    for (const compression of ["zstd", "gzip", "none"] as const) {
      it(`${format} / ${compression}: DuckDB reads back the manifest's rows, sizes and hashes match`, async () => {
        const output = `${format}-${compression}`;
        const phases = new Set<string>();
        const res = await exportDataset(
          base({ format, compression, output, from: T0 + HOUR, to: T0 + 3 * HOUR, dex: ["Meteora"] }),
          { source, allowedRoots: [roots], onProgress: (p) => phases.add(p.phase) },
        );
        const dir = join(roots, output);
        assert.equal(res.output, dir);
        assert.deepEqual(readdirSync(dir).sort(), [res.manifest.files[0].path, "manifest.json"].sort());
        // 2 of the 4 route patterns touch Meteora; two hours of 30,000 rows.
        assert.equal(res.manifest.rows, 30_000);
        assert.equal(res.manifest.files[0].rows, 30_000);
        const file = join(dir, res.manifest.files[0].path);
        const reader = format === "parquet" ? `read_parquet('${file}')` : `read_json('${file}')`;
        assert.equal(await count(`SELECT count(*) FROM ${reader}`), 30_000);
        assert.equal(
          await count(`SELECT count(*) FROM ${reader} WHERE dexes NOT LIKE '%meteora%' OR ts_ms < ${T0 + HOUR}`),
          0,
        );
        // 64-bit amounts exact through both formats (9007199254740993 + 7i: odd, beyond 2^53).
        const big = (
          await conn.runAndReadAll(`SELECT amount_in::VARCHAR FROM ${reader} WHERE id = 'arb-30002'`)
        ).getRows()[0][0];
        assert.equal(big, String(9007199254740993n + 7n * 30002n));
        const verified = await verifyDataset(dir);
        assert.ok(verified.ok, JSON.stringify(verified.files));
        assert.equal(verified.id, res.id);
        assert.match(res.id, /^sha256:[0-9a-f]{64}$/);
        assert.deepEqual(res.manifest.filters.dex_applies_to, ["arb_opportunities"]);
        assert.equal(res.manifest.source.kind, "local");
        assert.ok(phases.has("write") && phases.has("hash") && phases.has("done"));
        if (format === "parquet") {
          const codec = (
            await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)
          ).getRows()[0][0];
          assert.equal(codec, { zstd: "ZSTD", gzip: "GZIP", none: "UNCOMPRESSED" }[compression]);
        }
      });
    }
  }

  it("a changed byte is found by verifyDataset and changes nothing else", async () => {
    const res = await exportDataset(base({ output: "tamper", to: T0 + HOUR }), { source, allowedRoots: [roots] });
    const file = join(res.output, res.manifest.files[0].path);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const v = await verifyDataset(res.output);
    assert.equal(v.ok, false);
    assert.equal(v.files[0].problem, "sha256 differs");
    assert.equal(v.id, res.id, "the manifest itself is untouched");
  });

  it("bad outputs are refused before anything is written", async () => {
    const outside = mkdtempSync(join(tmpdir(), "mevlab-outside-"));
    symlinkSync(outside, join(roots, "link-out"));
    mkdirSync(join(roots, "full"));
    writeFileSync(join(roots, "full", "keep.txt"), "mine");
    const cases: Array<[string, RegExp]> = [
      ["../escape", /path traversal/],
      ["a/../../escape", /path traversal/],
      [join(outside, "ds"), /outside the allowed export roots/],
      ["/etc/mevlab-ds", /outside the allowed export roots/],
      ["link-out/ds", /outside the allowed export roots/],
      ["full", /not empty; exports never overwrite/],
      ["bad\u0000name", /control characters/],
      ["", /directory path or s3/],
      ["http://example.com/ds", /only local directories and s3/],
      ["s3://datasets/x", /outside the allowed export roots/],
      ["s3://Bad_Bucket/x", /not a valid bucket name/],
      ["s3://datasets/a/../b", /path traversal/],
    ];
    for (const [output, message] of cases) {
      await assert.rejects(
        exportDataset(base({ output }), { source, allowedRoots: [roots] }),
        (err: unknown) => err instanceof DataError && err.field === "output" && message.test(err.message),
        `output ${JSON.stringify(output)}`,
      );
    }
    assert.deepEqual(readdirSync(outside), []);
    assert.deepEqual(readdirSync(join(roots, "full")), ["keep.txt"]);
    assert.equal(resolveOutput("s3://datasets/runs/a", ["s3://datasets/runs"]).kind, "s3");
    assert.throws(() => resolveOutput("s3://datasets/runs", ["s3://datasets/runs"]), /outside/);
  });

  it("bad filters get a DataError naming the field, and nothing is written", async () => {
    const cases: Array<[Partial<ExportSpec> & Record<string, unknown>, string]> = [
      [{ types: [] }, "types"],
      [{ types: ["swaps"] }, "types"],
      [{ format: "csv" as never }, "format"],
      [{ compression: "lz4" as never }, "compression"],
      [{ from: T0 + HOUR, to: T0 }, "from"],
      [{ to: "yesterday-ish" }, "to"],
      [{ types: ["outcomes"], dex: ["orca"] }, "dex"],
      [{ dex: [] }, "dex"],
      [{ modules: ["sandwich"] }, "modules"],
      [{ sql: "DROP TABLE x" }, "sql"],
    ];
    for (const [over, field] of cases) {
      await assert.rejects(
        exportDataset(base({ ...over, output: "never" }), { source, allowedRoots: [roots] }),
        (err: unknown) => err instanceof DataError && err.field === field,
        JSON.stringify(over),
      );
    }
    assert.ok(!readdirSync(roots).includes("never"));
  });

  it("a symbolic link swapped into the output's path while it is written is refused: nothing lands outside", async () => {
    const outside = mkdtempSync(join(tmpdir(), "mevlab-swap-target-"));
    mkdirSync(join(roots, "swap"));
    await assert.rejects(
      exportDataset(base({ output: "swap/ds", format: "jsonl", compression: "none" }), {
        source,
        allowedRoots: [roots],
        onProgress: (p: ExportProgress) => {
          // After resolveOutput checked "swap" and the staging directory was made in it, "swap" becomes
          // a link to a directory outside the roots, where a staging directory of the same name waits.
          if (p.phase === "write" && !readdirSync(roots).includes("swap-real")) {
            renameSync(join(roots, "swap"), join(roots, "swap-real"));
            symlinkSync(outside, join(roots, "swap"));
            for (const name of readdirSync(join(roots, "swap-real"))) mkdirSync(join(outside, name));
          }
        },
      }),
      (err: unknown) => err instanceof DataError && /changed while the export ran/.test(err.message),
    );
    for (const name of readdirSync(outside)) {
      assert.deepEqual(readdirSync(join(outside, name)), [], "nothing written through the link");
    }
  });

  it("a dataset is private to its owner: directory 0700, files 0600", async () => {
    const res = await exportDataset(base({ output: "private", format: "jsonl", compression: "none", to: T0 + HOUR }), {
      source,
      allowedRoots: [roots],
    });
    assert.equal(statSync(res.output).mode & 0o777, 0o700);
    for (const f of readdirSync(res.output)) assert.equal(statSync(join(res.output, f)).mode & 0o777, 0o600, f);
  });

  it("a cancelled export leaves no directory and no staging files", async () => {
    const ac = new AbortController();
    const before = readdirSync(roots).sort();
    await assert.rejects(
      exportDataset(base({ output: "cancelled", format: "jsonl", compression: "gzip" }), {
        source,
        allowedRoots: [roots],
        signal: ac.signal,
        onProgress: (p: ExportProgress) => p.phase === "hash" && ac.abort(), // the file is in staging by then
      }),
      (err: unknown) => err instanceof DataError && /cancelled/.test(err.message),
    );
    assert.deepEqual(readdirSync(roots).sort(), before);
  });

  describe("to S3 (s3proxy)", () => {
    let s3: S3Server;
    let settings: S3Settings;

    before(async () => {
      s3 = await startS3Proxy(["datasets"]);
      settings = {
        endpoint: s3.endpoint,
        accessKeyId: s3.accessKeyId,
        secretAccessKey: s3.secretAccessKey,
        region: s3.region,
      };
    });
    after(async () => await s3?.stop());

    it("uploads in parts, writes the manifest last, and verifies from S3", async () => {
      const res = await exportDataset(base({ format: "jsonl", compression: "none", output: "s3://datasets/runs/r1" }), {
        source,
        allowedRoots: ["s3://datasets/runs"],
        s3: settings,
        partSizeBytes: 5 * 1024 * 1024,
      });
      assert.equal(res.output, "s3://datasets/runs/r1");
      assert.equal(res.manifest.rows, ROWS);
      const f = res.manifest.files[0];
      assert.ok(f.bytes > 3 * 5 * 1024 * 1024, `file of ${f.bytes} bytes spans several parts`);
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      });
      const head = await client.send(new HeadObjectCommand({ Bucket: "datasets", Key: `runs/r1/${f.path}` }));
      client.destroy();
      assert.equal(head.ContentLength, f.bytes);
      // A multipart object's ETag ends in -<parts>.
      assert.match(head.ETag ?? "", new RegExp(`-${Math.ceil(f.bytes / (5 * 1024 * 1024))}"$`));
      const v = await verifyDataset(res.output, { s3: settings });
      assert.ok(v.ok, JSON.stringify(v.files));
      assert.equal(v.id, res.id);
      // The same bytes as a local export of the same slice.
      const local = await exportDataset(base({ format: "jsonl", compression: "none", output: "same-as-s3" }), {
        source,
        allowedRoots: [roots],
      });
      assert.equal(local.manifest.files[0].sha256, f.sha256);
    });

    it("refuses a prefix that already holds objects, and a missing bucket, with clear errors", async () => {
      await exportDataset(base({ output: "s3://datasets/runs/r2", to: T0 + HOUR }), {
        source,
        allowedRoots: ["s3://datasets"],
        s3: settings,
      });
      await assert.rejects(
        exportDataset(base({ output: "s3://datasets/runs/r2", to: T0 + HOUR }), {
          source,
          allowedRoots: ["s3://datasets"],
          s3: settings,
        }),
        /already holds objects; exports never overwrite/,
      );
      await assert.rejects(
        exportDataset(base({ output: "s3://missing-bucket/r", to: T0 + HOUR }), {
          source,
          allowedRoots: ["s3://missing-bucket"],
          s3: settings,
        }),
        /NoSuchBucket/,
      );
      await assert.rejects(
        exportDataset(base({ output: "s3://datasets/runs/r3", to: T0 + HOUR }), {
          source,
          allowedRoots: ["s3://datasets"],
          s3: { ...settings, secretAccessKey: "wrong" },
        }),
        (err: unknown) => err instanceof DataError && /S3 .*HTTP 403/.test(err.message),
      );
    });
  });
});
