// GET /api/metrics/history: the per-second points are what the summary gave at the end of each second
// (checked second by second against summary() over two simulated hours), the answer is bounded (an
// hour at most, whatever ran before), and the route against a real control plane: the agents' updates
// from the bus show up, a viewer may read, an anonymous caller may not, and bad queries get a 400.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LatencyHistogram, LocalBus, metricsHistory, nodeTransport, ControlPlaneClient } from "@mevlab/kernel-helpers";
import { MetricsUpdateSchema, Module, TOPICS, create, encode } from "@mevlab/proto";
import { metricsHistory as historyOf } from "../src/metrics/history";
import { RollingMetrics } from "../src/metrics/rolling";
import { startControlPlane, type ControlPlane } from "../src";
import { waitFor } from "./wait";

function update(agentId: string, latencyUs: number, sent: number, landed: number, pnlLamports: bigint) {
  const h = new LatencyHistogram();
  for (let i = 0; i < 20; i++) h.observe(latencyUs);
  return create(MetricsUpdateSchema, {
    agentId,
    module: agentId.startsWith("mev") ? Module.mev : Module.arbitrage,
    hotpathUs: h.take(),
    bundlesSent: BigInt(sent),
    bundlesLanded: BigInt(landed),
    pnlLamports,
    intervalMs: 1000,
  });
}

describe("metrics history over a simulated clock", () => {
  it("each point is the summary at the end of its second; an hour at most", () => {
    const start = 1_800_000_000_000;
    let now = start;
    const rolling = new RollingMetrics(() => now);
    const expected = new Map<number, { pnl: number; p99: number | null; landed: number | null }>();
    let pnl = 0n;
    for (let s = 0; s < 2 * 3600; s++) {
      now = start + s * 1000;
      // Gaps of silence (100 s), changing latency and landing, gains and losses.
      if (s % 400 < 300) {
        const lamports = BigInt(((s * 7919) % 2001) - 900) * 1_000n;
        rolling.observe(update(s % 2 ? "arb-1" : "mev-1", 300 + (s % 600) * 20, s % 5, s % 3 === 0 ? 1 : 0, lamports));
        pnl += lamports;
      }
      now += 999;
      const summary = rolling.summary();
      expected.set(start + s * 1000, {
        pnl: Number(pnl) / 1e9,
        p99: summary.hotpathP99 === 0 ? null : summary.hotpathP99,
        landed: summary.bundlesSent10m === 0n ? null : summary.landedPct,
      });
    }
    now = start + 2 * 3600 * 1000 + 5;
    const h = historyOf(rolling, { minutes: 60 });
    assert.equal(h.ts.length, 3600, "one point a second for an hour, no more");
    assert.equal(h.started_at, start);
    assert.equal(h.ts[0], now - 5 - 3600 * 1000);
    for (const column of [h.cumulative_pnl_sol, h.hotpath_p99_ms, h.landed_pct]) assert.equal(column.length, 3600);
    let nulls = 0;
    h.ts.forEach((ts, i) => {
      const want = expected.get(ts)!;
      assert.ok(
        Math.abs(h.cumulative_pnl_sol[i] - want.pnl) < 1e-9,
        `pnl at ${ts}: ${h.cumulative_pnl_sol[i]} ≠ ${want.pnl}`,
      );
      assert.equal(h.hotpath_p99_ms[i], want.p99, `p99 at ${ts}`);
      assert.equal(h.landed_pct[i], want.landed, `landed at ${ts}`);
      if (h.hotpath_p99_ms[i] === null) nulls++;
    });
    assert.ok(nulls > 0 && nulls < 3600, `some seconds had no sample in their minute (${nulls})`);

    const last = historyOf(rolling, { minutes: 1 });
    assert.deepEqual(last.ts, h.ts.slice(-60));
    const since = historyOf(rolling, { minutes: 60, since: h.ts[3589] });
    assert.deepEqual(since.ts, h.ts.slice(3590));
    assert.deepEqual(since.cumulative_pnl_sol, h.cumulative_pnl_sol.slice(3590));
  });

  it("starts when the control plane started", () => {
    let now = 1_800_000_000_400;
    const rolling = new RollingMetrics(() => now);
    assert.equal(historyOf(rolling, { minutes: 60 }).ts.length, 0, "no whole second yet");
    now += 90_000;
    const h = historyOf(rolling, { minutes: 60 });
    assert.equal(h.ts.length, 90);
    assert.deepEqual(h.cumulative_pnl_sol, new Array<number>(90).fill(0));
    assert.deepEqual(h.landed_pct, new Array<null>(90).fill(null));
  });
});

describe("GET /api/metrics/history", () => {
  let bus: LocalBus;
  let cp: ControlPlane;
  let viewer: ControlPlaneClient;

  before(async () => {
    bus = new LocalBus();
    cp = await startControlPlane({
      dataDir: mkdtempSync(join(tmpdir(), "mevlab-history-")),
      bus,
      port: 0,
      sink: false,
      logLevel: "silent",
      log: () => undefined,
    });
    await cp.users.add("viewer", "viewer-password", "viewer");
    viewer = await ControlPlaneClient.login({
      url: cp.url,
      username: "viewer",
      password: "viewer-password",
      transport: nodeTransport,
    });
  });

  after(async () => {
    await viewer.close();
    await cp.close();
    await bus.close();
  });

  it("shows the agents' updates to a viewer: cumulative PnL, hot path p99, landed share", async () => {
    const record = (u: ReturnType<typeof update>) => ({ key: u.agentId, value: encode(MetricsUpdateSchema, u) });
    await bus.publish(TOPICS.agentMetrics.name, [
      record(update("mev-1", 900, 4, 3, 1_500_000_000n)),
      record(update("arb-1", 900, 4, 1, -500_000_000n)),
    ]);
    const published = Date.now();
    // The second they landed in is charted once it is whole.
    let seen: unknown;
    const h = await waitFor(
      "a whole second with both updates",
      async () => {
        const h = await metricsHistory(viewer, { minutes: 5 });
        seen = h;
        return h.ts.at(-1)! >= published - 1000 && h.cumulative_pnl_sol.at(-1) === 1 ? h : undefined;
      },
      15_000,
    ).catch((err: Error) => assert.fail(`${err.message}; last answer ${JSON.stringify(seen)}`));
    assert.equal(h.landed_pct.at(-1), 0.5);
    const p99 = h.hotpath_p99_ms.at(-1)!;
    assert.ok(p99 > 0.8 && p99 <= 1, `p99 ${p99} ms`);
    assert.equal(h.ts[0], Math.floor(h.started_at / 1000) * 1000, "from the control plane's first second");
    assert.deepEqual(
      h.ts.map((t, i) => (i === 0 ? 1000 : t - h.ts[i - 1])),
      h.ts.map(() => 1000),
      "one point per second",
    );
    const last = h.ts.at(-1)!;
    const later = await waitFor("a second after the last one read", async () => {
      const l = await metricsHistory(viewer, { since: last });
      return l.ts.length > 0 ? l : undefined;
    });
    assert.equal(later.ts[0], last + 1000, "since: the seconds after it, none skipped");
    assert.equal(later.cumulative_pnl_sol[0], 1, "no update since: the same PnL");
  });

  it("refuses an anonymous caller (401) and bad queries (400, naming the parameter)", async () => {
    const anonymous = await fetch(`${cp.url}/api/metrics/history`);
    assert.equal(anonymous.status, 401);
    for (const query of ["minutes=0", "minutes=61", "minutes=abc", "minutes=1.5", "since=-1", "since=x", "bucket=1"]) {
      const res = await fetch(`${cp.url}/api/metrics/history?${query}`, {
        headers: { authorization: `Bearer ${viewer.token}` },
      });
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { ok: boolean; error: { message: string } };
      assert.equal(body.ok, false);
      assert.match(body.error.message, new RegExp(query.split("=")[0]), query);
    }
  });
});
