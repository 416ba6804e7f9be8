// Data helpers end to end: the same events go through the control plane's sink into the local Parquet
// store and into a modern ClickHouse engine (chDB behind a minimal HTTP front, see e2e/src/chdb.ts), and
// every slice must give the same rows from both; ClickHouse transport against Debian's real
// clickhouse-server 18.16 (auth, errors, inserts, selects, and clear errors for what it predates).
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { arbOpportunity, initialRuntime, mevOpportunity, rng } from "@mevlab/agents";
import { startClickHouse, type ClickHouseServer } from "@mevlab/cli";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { clickHouseDdl } from "@mevlab/control-plane";
import {
  ClickHouseError,
  ClickHouseSource,
  DataError,
  DataSource,
  LocalBus,
  duck,
  exportDataset,
  nativeDuck,
  toRows,
  verifyDataset,
  type Progress,
  type SliceSpec,
} from "@mevlab/kernel-helpers";
import { Module, TOPICS, type ArbOpportunity, type MevOpportunity } from "@mevlab/proto";
import { startChdbHttp, type ChdbHttp } from "../src/chdb";
import { publishOpportunities } from "../src/events";
import { login, waitFor } from "../src/stack";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-11-20T10:00:00Z");
const N = 3000;
const r = rng(5);
const rt = initialRuntime(false);
const arbs: ArbOpportunity[] = [];
const mevs: MevOpportunity[] = [];

function makeEvents(): void {
  for (let i = 0; i < N; i++) {
    const a = arbOpportunity(r, "arb-d", 400_000_000n + BigInt(i), i, rt);
    a.ts = BigInt(T0 + Math.floor((i * 3 * HOUR) / N)); // three hours, three partitions
    a.id = `arb-${i}`;
    arbs.push(a);
    const m = mevOpportunity(r, "mev-d", 400_000_000n + BigInt(i), i, rt);
    m.ts = BigInt(T0 + Math.floor((i * 3 * HOUR) / N));
    m.id = `mev-${i}`;
    mevs.push(m);
  }
  arbs[7].route[0].amountIn = 2n ** 63n + 11n; // beyond 2^53 and beyond Int64
}

const specs: Array<{ name: string; spec: SliceSpec; expect: () => string[] }> = [
  {
    name: "one hour of arb",
    spec: { stream: "arb", from: T0 + HOUR, to: T0 + 2 * HOUR },
    expect: () => arbs.filter((a) => a.ts >= T0 + HOUR && a.ts < T0 + 2 * HOUR).map((a) => a.id),
  },
  {
    name: "arb on Orca or Meteora, accepted, net >= 0.001 SOL",
    spec: {
      stream: "arb_opportunities",
      from: "2026-11-20",
      to: "2026-11-21",
      dex: ["orca", "METEORA"],
      where: { accepted: true, net_sol: { gte: 0.001 } },
    },
    expect: () =>
      arbs
        .filter((a) => a.route.some((h) => ["orca", "meteora"].includes(h.dex.toLowerCase())))
        .filter((a) => a.decisionMeta?.accepted && (a.profit?.netSol ?? 0) >= 0.001)
        .map((a) => a.id),
  },
  {
    name: "mev on PumpSwap, first 50",
    spec: { stream: "mev", from: T0, to: T0 + 3 * HOUR, dex: ["pumpswap"], limit: 50 },
    expect: () =>
      mevs
        .filter((m) => m.dex.toLowerCase() === "pumpswap")
        .slice(0, 50)
        .map((m) => m.id),
  },
  {
    name: "injection attempt is a value",
    spec: { stream: "mev", from: T0, to: T0 + 3 * HOUR, where: { pool: "x' OR 1=1 --" } },
    expect: () => [],
  },
  {
    name: "arb stream asked for mev module only",
    spec: { stream: "arb", from: T0, to: T0 + 3 * HOUR, modules: ["mev"] },
    expect: () => [],
  },
];

/**
 * Waits until the control plane has taken `each` records of every opportunity/outcome topic from the
 * bus: the local bus delivers in later turns of the event loop, and `flushed()` only writes out what
 * the sink has received.
 */
async function delivered(cp: ControlPlane, each: number): Promise<void> {
  const token = await cp.tokens.issue("data-test", "viewer", 900);
  await waitFor(
    `the control plane to take ${each} records of each topic from the bus`,
    async () => {
      const text = await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((x) =>
        x.text(),
      );
      return [TOPICS.arbOpportunities, TOPICS.mevOpportunities, TOPICS.bundleOutcomes].every(
        (t) =>
          Number(new RegExp(`^mevlab_bus_events_total\\{topic="${t.name}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0) >=
          each,
      )
        ? true
        : undefined;
    },
    60_000,
  );
}

describe("data helpers", { timeout: 300_000 }, () => {
  let bus: LocalBus;
  let cpLocal: ControlPlane;
  let cpCh: ControlPlane;
  let chdb: ChdbHttp;
  let local: DataSource;
  let remote: DataSource;

  before(async () => {
    makeEvents();
    chdb = await startChdbHttp();
    const admin = new ClickHouseSource({ url: chdb.url() });
    for (const stmt of clickHouseDdl()
      .replace(/^--.*$/gm, "")
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean)) {
      await admin.command(stmt);
    }
    await admin.close();
    bus = new LocalBus();
    const dataDir = mkdtempSync(join(tmpdir(), "mevlab-data-"));
    cpLocal = await startControlPlane({ dataDir, bus, port: 0, sinkFlushMs: 200, log: () => undefined });
    cpCh = await startControlPlane({
      dataDir: mkdtempSync(join(tmpdir(), "mevlab-data-ch-")),
      bus,
      port: 0,
      sinkFlushMs: 200,
      clickhouseUrl: chdb.url(),
      log: () => undefined,
    });
    await publishOpportunities(bus, arbs, mevs, (i) => (i % 3 === 0 ? Module.mev : Module.arbitrage));
    await Promise.all([delivered(cpLocal, N), delivered(cpCh, N)]);
    assert.ok(await cpLocal.sink!.flushed(60_000), "local sink drained");
    assert.ok(await cpCh.sink!.flushed(60_000), "ClickHouse sink drained");
    local = new DataSource({ dataDir, clickhouseUrl: "" });
    remote = new DataSource({ clickhouseUrl: chdb.url(), arrowCompression: "zstd" });
  });
  after(async () => {
    await local?.close();
    await remote?.close();
    await cpLocal?.close();
    await cpCh?.close();
    await bus?.close();
    await chdb?.stop();
  });

  it("slices give exactly the expected rows, the same from the local store and from ClickHouse", async () => {
    assert.equal(local.kind, "local");
    assert.equal(remote.kind, "clickhouse");
    for (const { name, spec, expect } of specs) {
      const want = expect();
      const a = await local.slice(spec);
      const b = await remote.slice(spec);
      const ids = (t: typeof a) => toRows(t).map((row) => row.id as string);
      assert.deepEqual(ids(a), want, `local: ${name}`);
      assert.deepEqual(ids(b), want, `clickhouse: ${name}`);
      assert.deepEqual(toRows(a), toRows(b), `same values: ${name}`);
      assert.deepEqual(a.schema.fields.map(String), b.schema.fields.map(String), `same schema: ${name}`);
    }
  });

  it("64-bit lamports stay exact and types are the store's", async () => {
    for (const src of [local, remote]) {
      const t = await src.slice({
        stream: "arb",
        from: T0,
        to: T0 + HOUR,
        columns: ["ts_ms", "id", "amount_in", "net_lamports", "landed"],
      });
      const rows = toRows(t);
      assert.equal(rows.find((row) => row.id === "arb-7")!.amount_in, 2n ** 63n + 11n, src.kind);
      assert.equal(String(t.schema.fields[2].type), "Uint64");
      assert.equal(String(t.schema.fields[3].type), "Int64");
      const sum = rows.reduce((s, row) => s + (row.net_lamports as bigint), 0n);
      const want = arbs.filter((a) => a.ts < T0 + HOUR).reduce((s, a) => s + (a.profit?.netLamports ?? 0n), 0n);
      assert.equal(sum, want, src.kind);
    }
  });

  it("sliceBatches streams with progress and can be cancelled", async () => {
    for (const src of [local, remote]) {
      const seen: Progress[] = [];
      let rows = 0;
      for await (const b of src.sliceBatches(
        { stream: "outcomes", from: T0, to: T0 + 3 * HOUR, modules: ["arbitrage"] },
        {
          onProgress: (p) => seen.push(p),
        },
      )) {
        rows += b.numRows;
      }
      assert.equal(rows, arbs.filter((_, i) => i % 3 !== 0).length, src.kind);
      assert.equal(seen.at(-1)!.done, true);
      assert.equal(seen.at(-1)!.rows, rows);
      assert.ok(seen.at(-1)!.bytes > 0);
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(
        (async () => {
          for await (const b of src.sliceBatches({ stream: "arb", from: T0, to: T0 + 3 * HOUR }, { signal: ac.signal }))
            void b;
        })(),
        (e: Error) => e instanceof DataError || e.name === "AbortError" || /abort|cancel/i.test(e.message),
        src.kind,
      );
    }
  });

  it("query() binds parameters on both engines", async () => {
    const ch = await remote.query(
      "SELECT count() AS n FROM mevlab.arb_opportunities WHERE ts_ms >= {from:UInt64} AND id != {id:String}",
      { from: T0 + 2 * HOUR, id: "' OR 1=1" },
    );
    const lo = await local.query("SELECT count(*) AS n FROM arb_opportunities WHERE ts_ms >= $from AND id != $id", {
      from: T0 + 2 * HOUR,
      id: "' OR 1=1",
    });
    const want = BigInt(arbs.filter((a) => a.ts >= T0 + 2 * HOUR).length);
    assert.equal(toRows(ch)[0].n, want);
    assert.equal(toRows(lo)[0].n, want);
  });

  it("bad slices get a DataError naming the field", async () => {
    const bad: Array<[SliceSpec, RegExp]> = [
      [{ stream: "nope", from: T0, to: T0 + 1 }, /unknown stream/],
      [{ stream: "arb", from: T0 + 1, to: T0 }, /must be before/],
      [{ stream: "arb", from: "yesterday-ish", to: T0 }, /'from' must be/],
      [{ stream: "arb", from: T0, to: T0 + 1, columns: ["id", "drop table"] }, /unknown column 'drop table'/],
      [{ stream: "arb", from: T0, to: T0 + 1, where: { net_sol: { like: 1 } } } as never, /unknown operator 'like'/],
      [{ stream: "arb", from: T0, to: T0 + 1, where: { landed: "yes" } }, /not true or false/],
      [{ stream: "arb", from: T0, to: T0 + 1, where: { amount_in: -1 } }, /non-negative/],
      [{ stream: "outcomes", from: T0, to: T0 + 1, dex: ["orca"] }, /'dex' filters the opportunity streams/],
      [{ stream: "arb", from: T0, to: T0 + 1, modules: ["sandwich"] }, /unknown module/],
      [{ stream: "arb", from: T0, to: T0 + 1, limit: 0 }, /'limit' must be a positive integer/],
      [{ stream: "arb", from: T0, to: T0 + 1, sql: "1" } as never, /unknown slice field 'sql'/],
    ];
    for (const [spec, re] of bad) {
      await assert.rejects(
        local.slice(spec),
        (e: Error) => e instanceof DataError && re.test(e.message),
        JSON.stringify(spec),
      );
    }
  });

  it("slices load into DuckDB-WASM and native DuckDB and give the same answer", async () => {
    const t = await local.slice({ stream: "mev", from: T0, to: T0 + 3 * HOUR });
    const sql =
      "SELECT lower(dex) AS dex, count(*) AS n, sum(net_lamports)::VARCHAR AS net FROM mev GROUP BY 1 ORDER BY 1";
    const answers = [];
    for (const engine of ["wasm", "native"] as const) {
      const s = await duck({ engine });
      await s.registerArrow("mev", t);
      answers.push(toRows(await s.sql(sql)).map((row) => ({ ...row, n: BigInt(row.n as number | bigint) })));
      await s.close();
    }
    assert.deepEqual(answers[0], answers[1]);
    assert.equal(
      answers[0].reduce((s, row) => s + (row.n as bigint), 0n),
      BigInt(N),
    );
  });
  it("exports of the same filters from the local store and from ClickHouse hold the same rows and schema", async () => {
    const roots = mkdtempSync(join(tmpdir(), "mevlab-data-exports-"));
    const spec = { types: ["arb", "mev"], from: T0, to: T0 + 3 * HOUR, dex: ["orca"], output: "" } as const;
    const a = await exportDataset({ ...spec, output: "local" }, { source: local, allowedRoots: [roots] });
    const b = await exportDataset({ ...spec, output: "clickhouse" }, { source: remote, allowedRoots: [roots] });
    assert.equal(a.manifest.source.kind, "local");
    assert.equal(b.manifest.source.kind, "clickhouse");
    assert.ok(!b.manifest.source.location.includes("s3cret"), "no password in the manifest");
    const arbOrca = arbs.filter((x) => x.route.some((h) => h.dex.toLowerCase() === "orca")).length;
    const mevOrca = mevs.filter((x) => x.dex.toLowerCase() === "orca").length;
    assert.deepEqual(
      a.manifest.files.map((f) => [f.table, f.rows]),
      [
        ["arb_opportunities", arbOrca],
        ["mev_opportunities", mevOrca],
      ],
    );
    assert.deepEqual(
      b.manifest.files.map((f) => [f.table, f.rows]),
      a.manifest.files.map((f) => [f.table, f.rows]),
    );
    const db = await nativeDuck();
    try {
      for (const f of a.manifest.files) {
        const pa = `read_parquet('${join(a.output, f.path)}')`;
        const pb = `read_parquet('${join(b.output, f.path)}')`;
        const describeOf = async (r: string) => toRows(await db.sql(`DESCRIBE SELECT * FROM ${r}`));
        assert.deepEqual(await describeOf(pb), await describeOf(pa), `${f.table}: same schema`);
        const diff = toRows(
          await db.sql(
            `SELECT (SELECT count(*) FROM (SELECT * FROM ${pa} EXCEPT ALL SELECT * FROM ${pb})) AS ab, ` +
              `(SELECT count(*) FROM (SELECT * FROM ${pb} EXCEPT ALL SELECT * FROM ${pa})) AS ba, ` +
              `(SELECT count(*) FROM ${pb}) AS n`,
          ),
        )[0];
        assert.deepEqual([diff.ab, diff.ba, diff.n], [0n, 0n, BigInt(f.rows)], `${f.table}: same rows`);
      }
    } finally {
      await db.close();
    }
    assert.ok((await verifyDataset(a.output)).ok);
    assert.ok((await verifyDataset(b.output)).ok);
  });
  it("curated queries give the same answers from the local store and from ClickHouse", async () => {
    const answer = async (cp: ControlPlane, name: string, params: Record<string, unknown>) => {
      if (!cp.users.has("q")) await cp.users.add("q", "query-password", "viewer");
      const token = await login(cp.url, "q", "query-password");
      const res = await fetch(`${cp.url}/api/clickhouse/query`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ name, params }),
      });
      const json = (await res.json()) as { source: string; rows: Array<Record<string, unknown>> };
      assert.equal(res.status, 200, JSON.stringify(json));
      return json;
    };
    const range = { from: T0, to: T0 + 3 * HOUR };
    const cases: Array<[string, Record<string, unknown>]> = [
      ["opportunities_by_hour", range],
      ["opportunities_by_dex", { ...range, dex: "Orca" }],
      ["top_mev_pools", { ...range, limit: 5 }],
    ];
    for (const [name, params] of cases) {
      const a = await answer(cpLocal, name, params);
      const b = await answer(cpCh, name, params);
      assert.equal(a.source, "local");
      assert.equal(b.source, "clickhouse");
      assert.ok(a.rows.length > 0, name);
      // Sums of floats may differ in the last bits between engines (summation order); everything else is exact.
      assert.equal(b.rows.length, a.rows.length, name);
      a.rows.forEach((ra, i) => {
        const rb = b.rows[i];
        assert.deepEqual(Object.keys(rb), Object.keys(ra), name);
        for (const [k, va] of Object.entries(ra)) {
          const vb = rb[k];
          if (typeof va === "number" && !Number.isInteger(va)) {
            assert.ok(
              Math.abs(va - (vb as number)) <= 1e-9 * Math.max(1, Math.abs(va)),
              `${name} row ${i} ${k}: ${va} vs ${vb}`,
            );
          } else assert.equal(vb, va, `${name} row ${i} ${k}`);
        }
      });
    }
    const byHour = await answer(cpLocal, "opportunities_by_hour", range);
    assert.equal(
      byHour.rows.filter((r) => r.module === "arbitrage").reduce((n, r) => n + (r.opportunities as number), 0),
      N,
    );
  });
});

describe("ClickHouse transport on Debian's clickhouse-server 18.16", { timeout: 120_000 }, () => {
  let server: ClickHouseServer;
  let ch: ClickHouseSource;
  before(async () => {
    server = await startClickHouse();
    ch = new ClickHouseSource({ url: server.url("default") });
  });
  after(async () => {
    await ch?.close();
    await server?.stop();
  });

  it("inserts and selects rows exactly", async () => {
    await ch.command("CREATE TABLE t (a UInt64, i Int64, s String) ENGINE = MergeTree ORDER BY a");
    await ch.insert("t", [
      { a: "18446744073709551615", i: "-9223372036854775808", s: "it's" },
      { a: "1", i: "9007199254740993", s: "x\ny" },
    ]);
    const rows = await ch.json<{ a: string; i: string; s: string }>("SELECT a, i, s FROM t ORDER BY a");
    assert.deepEqual(rows, [
      { a: "1", i: "9007199254740993", s: "x\ny" },
      { a: "18446744073709551615", i: "-9223372036854775808", s: "it's" },
    ]);
  });

  it("errors are ClickHouseErrors with ClickHouse's code and message", async () => {
    await assert.rejects(
      ch.json("SELEC 1"),
      (e: Error) => e instanceof ClickHouseError && e.code === 62 && /Syntax error/.test(e.message),
    );
    await assert.rejects(
      ch.json("SELECT * FROM no_such_table"),
      (e: Error) => e instanceof ClickHouseError && e.code === 60,
    );
    await assert.rejects(ch.insert("t; DROP TABLE t", []), DataError);
    await assert.rejects(ch.json("SELECT 1 FORMAT TSV"), /leave the FORMAT clause out/);
  });

  it("wrong credentials and an unreachable server are told apart", async () => {
    const u = new URL(server.url("default"));
    u.password = "wrong";
    const bad = new ClickHouseSource({ url: u.toString() });
    await assert.rejects(
      bad.json("SELECT 1"),
      (e: Error) => e instanceof ClickHouseError && e.code === 193 && !e.message.includes("wrong"),
    );
    await bad.close();
    const down = new ClickHouseSource({ url: "http://mevlab:pw@127.0.0.1:1/default" });
    await assert.rejects(down.json("SELECT 1"), /cannot reach ClickHouse at http:\/\/mevlab@127\.0\.0\.1:1\/default/);
    await down.close();
  });

  it("ArrowStream and query parameters, which 18.16 predates, fail with a clear message", async () => {
    assert.equal(await ch.version(), "18.16.1");
    await assert.rejects(
      ch.table("SELECT 1 AS x"),
      /ClickHouse 18\.16\.1 .* cannot send FORMAT ArrowStream \(it needs ClickHouse 20\.x or newer\)/,
    );
    await assert.rejects(ch.json("SELECT {x:UInt8} AS x", { x: 1 }), /does not support query parameters/);
  });
});
