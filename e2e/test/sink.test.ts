// The event sink end to end: bus events in, rows out — in the embedded Parquet store (read back with
// DuckDB) and in Debian's real clickhouse-server, including 30 s with ClickHouse down.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { arbOpportunity, initialRuntime, mevOpportunity, rng } from "@mevlab/agents";
import { startClickHouse, type ClickHouseServer } from "@mevlab/cli";
import { startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { clickHouseDdl } from "@mevlab/control-plane";
import { LocalBus } from "@mevlab/kernel-helpers";
import { TOPICS } from "@mevlab/proto";
import { publishOpportunities } from "../src/events";
import { ROOT, waitFor } from "../src/stack";

const r = rng(11);
const rt = initialRuntime(false);
let n = 0;

/** Publishes `count` arb and `count` mev opportunities and `count` bundle outcomes; returns the sum of net lamports. */
async function publishBatch(bus: LocalBus, count: number): Promise<bigint> {
  const arbs = Array.from({ length: count }, () => arbOpportunity(r, "arb-s", 361_000_000n + BigInt(n), n++, rt));
  const mevs = Array.from({ length: count }, () => mevOpportunity(r, "mev-s", 361_000_000n + BigInt(n), n++, rt));
  // One lamport amount beyond 2^53, to see it arrive exact.
  arbs[0].route[0].amountIn = 2n ** 60n + 7n;
  await publishOpportunities(bus, arbs, mevs);
  return arbs.reduce((s, a) => s + (a.profit?.netLamports ?? 0n), 0n);
}

/** How many records of each opportunity/outcome topic the control plane has taken from the bus. */
async function consumed(cp: ControlPlane): Promise<number[]> {
  const token = await cp.tokens.issue("sink-test", "viewer", 900);
  const text = await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((x) =>
    x.text(),
  );
  return [TOPICS.arbOpportunities, TOPICS.mevOpportunities, TOPICS.bundleOutcomes].map((t) =>
    Number(new RegExp(`^mevlab_bus_events_total\\{topic="${t.name}"\\} (\\d+)`, "m").exec(text)?.[1] ?? 0),
  );
}

/**
 * The local bus hands records to the control plane in later turns of the event loop, not inside
 * `publish`: `flushed()` only writes out what the sink has received, so wait until it has them all.
 */
async function delivered(cp: ControlPlane, each: number): Promise<void> {
  await waitFor(
    `the control plane to take ${each} records of each topic from the bus`,
    async () => ((await consumed(cp)).every((n) => n >= each) ? true : undefined),
    60_000,
  );
}

describe("event sink", { timeout: 240_000 }, () => {
  describe("embedded Parquet store", () => {
    let bus: LocalBus;
    let cp: ControlPlane;
    let dataDir: string;

    before(async () => {
      bus = new LocalBus();
      dataDir = mkdtempSync(join(tmpdir(), "mevlab-sink-"));
      cp = await startControlPlane({ dataDir, bus, port: 0, sinkFlushMs: 200, log: () => undefined });
    });
    after(async () => {
      await cp?.close();
      await bus?.close();
    });

    it("writes N events as N rows in zstd Parquet partitioned by stream/day/hour, read back with DuckDB", async () => {
      let net = 0n;
      for (let i = 0; i < 5; i++) net += await publishBatch(bus, 1000);
      await delivered(cp, 5000);
      assert.ok(await cp.sink!.flushed(30_000), "sink drained");
      const root = join(dataDir, "events");
      const db = await DuckDBInstance.create(":memory:");
      const c = await db.connect();
      const count = async (table: string): Promise<bigint> =>
        (
          await c.runAndReadAll(
            `SELECT count(*) FROM read_parquet('${root}/${table}/*/*/*.parquet', hive_partitioning = true)`,
          )
        ).getRows()[0][0] as bigint;
      assert.equal(await count("arb_opportunities"), 5000n);
      assert.equal(await count("mev_opportunities"), 5000n);
      assert.equal(await count("bundle_outcomes"), 5000n);
      const sums = await c.runAndReadAll(
        `SELECT sum(net_lamports)::VARCHAR, max(amount_in)::VARCHAR, count(DISTINCT id), min(date)::VARCHAR FROM read_parquet('${root}/arb_opportunities/*/*/*.parquet', hive_partitioning = true)`,
      );
      const [sum, maxIn, distinct, date] = sums.getRows()[0];
      assert.equal(sum, net.toString());
      assert.equal(maxIn, (2n ** 60n + 7n).toString(), "64-bit lamports stay exact");
      assert.equal(distinct, 5000n);
      assert.match(String(date), /^\d{4}-\d{2}-\d{2}$/);
      const meta = await c.runAndReadAll(
        `SELECT DISTINCT compression FROM parquet_metadata('${root}/arb_opportunities/*/*/*.parquet')`,
      );
      assert.deepEqual(
        meta.getRows().map((row) => row[0]),
        ["ZSTD"],
      );
      // Readers never see half a file: nothing but finished parts under the partitions.
      const parts = readdirSync(join(root, "arb_opportunities"), { recursive: true }).map(String);
      assert.ok(
        parts.every((p) => !p.endsWith(".tmp")),
        parts.join(", "),
      );
      c.closeSync();
      db.closeSync();
    });
  });

  describe("ClickHouse (Debian's clickhouse-server)", () => {
    let ch: ClickHouseServer;
    let bus: LocalBus;
    let cp: ControlPlane;

    before(async () => {
      ch = await startClickHouse();
      bus = new LocalBus();
      cp = await startControlPlane({
        dataDir: mkdtempSync(join(tmpdir(), "mevlab-sink-ch-")),
        bus,
        port: 0,
        clickhouseUrl: ch.url("mevlab_test"),
        sinkFlushMs: 250,
        log: () => undefined,
      });
    });
    after(async () => {
      await cp?.close();
      await bus?.close();
      await ch?.stop();
    });

    const count = async (table: string): Promise<number> =>
      Number((await ch.query(`SELECT count() FROM mevlab_test.${table}`)).trim());

    it("creates the shipped DDL and writes N events as N rows", async () => {
      assert.equal(
        readFileSync(join(ROOT, "control-plane", "ddl", "clickhouse.sql"), "utf8"),
        clickHouseDdl(),
        "ddl/clickhouse.sql is current",
      );
      const taken = Math.min(...(await consumed(cp)));
      const net = await publishBatch(bus, 2000);
      await delivered(cp, taken + 2000);
      assert.ok(await cp.sink!.flushed(30_000));
      assert.equal(await count("arb_opportunities"), 2000);
      assert.equal(await count("mev_opportunities"), 2000);
      assert.equal(await count("bundle_outcomes"), 2000);
      assert.equal(
        (await ch.query("SELECT toString(sum(net_lamports)) FROM mevlab_test.arb_opportunities")).trim(),
        net.toString(),
      );
      assert.equal(
        (await ch.query("SELECT toString(max(amount_in)) FROM mevlab_test.arb_opportunities")).trim(),
        (2n ** 60n + 7n).toString(),
      );
      const cols = await ch.query(
        "SELECT name, type FROM system.columns WHERE database = 'mevlab_test' AND table = 'arb_opportunities' FORMAT TSV",
      );
      assert.ok(cols.includes("ts\tDateTime(\\'UTC\\')"), cols);
      assert.match(cols, /^net_lamports\tInt64$/m);
    });

    it("adds the market's feature columns to a table an older version created, then fills them", async () => {
      // The arbitrage table as it was before the f_* and cf_* columns.
      const old = clickHouseDdl("mevlab_old")
        .split("\n")
        .filter((l) => !/^(--| {2}(f|cf)_)/.test(l))
        .join("\n")
        .replace(/,\n\) ENGINE/g, "\n) ENGINE");
      for (const stmt of old.split(";").filter((s) => /CREATE (DATABASE|TABLE [^(]*arb_)/.test(s))) {
        await ch.query(stmt.trim());
      }
      const oldBus = new LocalBus();
      const oldCp = await startControlPlane({
        dataDir: mkdtempSync(join(tmpdir(), "mevlab-sink-ch-old-")),
        bus: oldBus,
        port: 0,
        clickhouseUrl: ch.url("mevlab_old"),
        sinkFlushMs: 250,
        log: () => undefined,
      });
      try {
        await publishBatch(oldBus, 100);
        await delivered(oldCp, 100);
        assert.ok(await oldCp.sink!.flushed(30_000));
        const filled = await ch.query(
          "SELECT count(), countIf(f_tip_floor_p75_lamports > 0 AND f_hotpath_us > 0) FROM mevlab_old.arb_opportunities FORMAT TSV",
        );
        assert.equal(filled.trim(), "100\t100");
      } finally {
        await oldCp.close();
        await oldBus.close();
      }
    });

    it("loses nothing while ClickHouse is down for 30 s", async () => {
      const before0 = await count("arb_opportunities");
      const taken = Math.min(...(await consumed(cp)));
      await ch.stop();
      let published = 0;
      try {
        const until = Date.now() + 30_000;
        let spooled = 0;
        while (Date.now() < until) {
          await publishBatch(bus, 200);
          published += 200;
          spooled = Math.max(spooled, cp.sink!.stats().spoolSegments);
          await new Promise((res) => setTimeout(res, 1_000));
        }
        assert.ok(cp.sink!.stats().failures > 0n, "the sink saw the outage");
        assert.ok(spooled > 1, `batches waited on disk (${spooled} segments)`);
      } finally {
        // Back up whatever happened above, so the server is not left down for what comes after.
        await ch.start();
      }
      await delivered(cp, taken + published);
      assert.ok(await cp.sink!.flushed(90_000), "the spool drained after ClickHouse came back");
      assert.equal(await count("arb_opportunities"), before0 + published);
      assert.equal(await count("bundle_outcomes"), before0 + published);
    });
  });
});
