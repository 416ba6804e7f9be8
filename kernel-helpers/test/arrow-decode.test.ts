// Decoding of ArrowStream bytes made by a modern ClickHouse engine: chDB (ClickHouse in-process, from
// PyPI, installed into .venv by `scripts/setup.sh --data`) writes the same 5,000 rows under each of
// ClickHouse's Arrow compression methods and as JSON; every value is compared.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Table } from "apache-arrow";
import { batchCompression, readArrowBatches, readArrowStream, toRows, DecodeError } from "../src";

const ROWS = 5000;
const root = resolve(__dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "mevlab-chdb-"));
let version = "";
const bytes: Record<string, Uint8Array> = {};
const tables: Record<string, Table> = {};

before(() => {
  const python = join(root, ".venv/bin/python");
  try {
    execFileSync(python, ["-c", "import chdb"], { stdio: "pipe" });
  } catch {
    throw new Error(`chDB is not in ${python}: run scripts/setup.sh --data (scripts/test does)`);
  }
  execFileSync(python, [join(root, "kernel-helpers/test/chdb/arrow_fixtures.py"), dir, String(ROWS)], {
    stdio: "pipe",
  });
  version = readFileSync(join(dir, "version.txt"), "utf8");
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".arrow"))) {
    bytes[f.replace(".arrow", "")] = new Uint8Array(readFileSync(join(dir, f)));
  }
});

test("chDB is a modern ClickHouse engine and compressed the batches as asked", async () => {
  assert.ok(Number(version.split(".")[0]) >= 24, `chDB engine version ${version}`);
  for (const [method, expect] of [
    ["none", "none"],
    ["lz4_frame", "lz4_frame"],
    ["zstd", "zstd"],
  ] as const) {
    const codecs = batchCompression(bytes[method]);
    assert.ok(codecs.length >= ROWS / 1000, `${method}: ${codecs.length} batches`);
    assert.ok(
      codecs.every((c) => c === expect),
      `${method}: ${[...new Set(codecs)].join(",")}`,
    );
  }
  assert.ok(bytes.zstd.length < bytes.none.length && bytes.lz4_frame.length < bytes.none.length);
});

test("each compression decodes to the same values as the uncompressed stream, whole or in chunks", async () => {
  for (const method of ["none", "lz4_frame", "zstd"]) tables[method] = await readArrowStream(bytes[method]);
  const plain = toRows(tables.none);
  assert.equal(plain.length, ROWS);
  for (const method of ["lz4_frame", "zstd"]) {
    assert.deepEqual(tables[method].schema.fields.map(String), tables.none.schema.fields.map(String), method);
    assert.deepEqual(toRows(tables[method]), plain, method);
    // the same bytes arriving in odd-sized chunks, as from a socket
    const chunked = await readArrowStream(chunks(bytes[method], [1, 3, 7, 4093, 65536]));
    assert.deepEqual(toRows(chunked), plain, `${method} chunked`);
  }
  const batches = [];
  for await (const batch of readArrowBatches(chunks(bytes.zstd, [8191]))) batches.push(batch);
  assert.equal(batches.length, tables.none.batches.length);
  assert.equal(
    batches.reduce((n, b) => n + b.numRows, 0),
    ROWS,
  );
});

test("every type matches ClickHouse's own JSON for the same rows", async () => {
  const table = tables.none ?? (await readArrowStream(bytes.none));
  const type = (name: string) => String(table.schema.fields.find((f) => f.name === name)!.type);
  assert.equal(type("u64"), "Uint64");
  assert.equal(type("ts"), "Timestamp<MILLISECOND, America/New_York>");
  assert.equal(type("ts_us"), "Timestamp<MICROSECOND, UTC>");
  assert.equal(type("d128"), "Decimal[38e+9]");
  assert.equal(type("d256"), "Decimal[76e+20]");
  assert.equal(type("dex"), "Dictionary<Int32, Utf8>");
  assert.equal(table.schema.fields.find((f) => f.name === "id")!.metadata.get("ARROW:extension:name"), "arrow.uuid");
  assert.equal(table.schema.fields.find((f) => f.name === "n_i32")!.nullable, true);

  const got = toRows(table);
  const want = readFileSync(join(dir, "rows.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(got.length, want.length);
  let nulls = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const at = `row ${i}`;
    for (const k of ["n", "u64", "i64"]) assert.equal(g[k], BigInt(w[k] as string), `${at} ${k}`);
    assert.equal(g.f64, w.f64, `${at} f64`);
    assert.equal(g.n_i32, w.n_i32, `${at} n_i32`);
    if (g.n_i32 === null) nulls++;
    for (const k of ["s", "dex", "module", "id"]) assert.equal(g[k], w[k], `${at} ${k}`);
    for (const k of ["d64", "d128", "d256"]) assert.equal(trimDecimal(g[k] as string), w[k], `${at} ${k}`);
    assert.equal((g.ts as Date).getTime(), unixMillis(w.ts as string), `${at} ts`);
    assert.equal((g.ts_us as Date).getTime(), Math.floor(unixMillis(w.ts_us as string)), `${at} ts_us`);
    assert.equal((g.day as Date).toISOString().slice(0, 10), w.day, `${at} day`);
    assert.deepEqual(g.arr, w.arr, `${at} arr`);
    assert.deepEqual(g.arr_s, w.arr_s, `${at} arr_s`);
    assert.equal(g.b, w.b, `${at} b (ClickHouse sends Bool as UInt8)`);
  }
  assert.equal(nulls, ROWS / 5);
  assert.equal(got[0].u64, 18446744073709551615n);
  assert.equal(got[1].u64, 9007199254740993n);
  assert.equal(got[0].d128, "-99999999999999999999999999999.999999999");
  assert.equal(toRows(table, { int64: "number", limit: 2 })[1].n, 1);
});

test("truncated or corrupt streams give a DecodeError", async () => {
  await assert.rejects(readArrowStream(bytes.lz4_frame.subarray(0, 5000)), DecodeError);
  await assert.rejects(readArrowStream(chunks(bytes.zstd.subarray(0, 40000), [4096])), DecodeError);
  for (const method of ["lz4_frame", "zstd"]) {
    const bad = bytes[method].slice();
    // scribble over the middle of the first batch's body (after schema and first header)
    bad.fill(0xee, 3000, 3400);
    await assert.rejects(readArrowStream(bad), (err: Error) => err instanceof DecodeError || /Arrow/.test(err.message));
  }
  assert.equal((await readArrowStream(new Uint8Array(0))).numRows, 0);
});

function* chunks(b: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let i = 0;
  for (let k = 0; i < b.length; k++) {
    const n = sizes[k % sizes.length];
    yield b.subarray(i, i + n);
    i += n;
  }
}

/** ClickHouse's JSON prints decimals without trailing zeros. */
function trimDecimal(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

function unixMillis(s: string): number {
  const [sec, frac = ""] = s.split(".");
  return Number(sec) * 1000 + Number((frac + "000").slice(0, 3)) + Number(`0.${frac.slice(3) || "0"}`);
}
