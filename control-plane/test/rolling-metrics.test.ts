import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LATENCY_BOUNDS_US, LatencyHistogram, quantileOf } from "@mevlab/kernel-helpers";
import { MetricsUpdateSchema, Module, create } from "@mevlab/proto";
import { RollingMetrics } from "../src/metrics/rolling";
import { prometheusText } from "../src/metrics/prometheus";
import { RealtimeHub } from "../src/realtime/hub";

function update(agentId: string, latenciesUs: number[], sent: number, landed: number, pnl: bigint) {
  const h = new LatencyHistogram();
  for (const v of latenciesUs) h.observe(v);
  const s = new LatencyHistogram();
  for (let i = 0; i < sent; i++) s.observe(2_000);
  return create(MetricsUpdateSchema, {
    agentId,
    module: agentId.startsWith("mev") ? Module.mev : Module.arbitrage,
    hotpathUs: h.take(),
    sendUs: s.take(),
    opportunitiesSeen: BigInt(latenciesUs.length),
    bundlesSent: BigInt(sent),
    bundlesLanded: BigInt(landed),
    pnlLamports: pnl,
    intervalMs: 1000,
  });
}

describe("rolling metrics", () => {
  it("histogram quantiles interpolate inside buckets", () => {
    const counts = new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);
    counts[LATENCY_BOUNDS_US.indexOf(1_000)] = 100; // all in (800, 1000]
    assert.equal(quantileOf(counts, LATENCY_BOUNDS_US, 0.5), 900);
    assert.equal(quantileOf(counts, LATENCY_BOUNDS_US, 1), 1_000);
    assert.ok(
      Number.isNaN(
        quantileOf(
          counts.map(() => 0),
          LATENCY_BOUNDS_US,
          0.5,
        ),
      ),
    );
  });

  it("windows: latency over 60 s, landed share over 10 min, PnL over 1 h", () => {
    let now = 1_800_000_000_000;
    const m = new RollingMetrics(() => now);
    // 30 minutes ago: slow, many landed, +2 SOL.
    now -= 30 * 60_000;
    m.observe(update("arb-1", Array(100).fill(20_000), 10, 10, 2_000_000_000n));
    now += 30 * 60_000;
    // Now: fast, half landed, -0.5 SOL.
    for (let i = 0; i < 5; i++) {
      m.observe(update(i % 2 ? "arb-1" : "mev-1", Array(100).fill(900), 4, 2, -100_000_000n));
      now += 1_000;
    }
    const s = m.summary();
    assert.ok(s.hotpathP50 > 0.8 && s.hotpathP50 <= 1.0, `p50 ${s.hotpathP50} ms from the last minute only`);
    assert.ok(s.hotpathP99 <= 1.0);
    assert.equal(s.landedPct, 0.5);
    assert.equal(s.bundlesSent10m, 20n);
    assert.ok(Math.abs(s.pnl1h - 1.5) < 1e-9, `pnl ${s.pnl1h}`);
    assert.equal(s.agentsReporting, 2);
    // An hour on, everything has left the windows.
    now += 3_600_000;
    const later = m.summary();
    assert.equal(later.pnl1h, 0);
    assert.equal(later.hotpathP50, 0);
    assert.equal(later.landedPct, 0);
  });

  it("counts events and store rows per second over the last 10 whole seconds", () => {
    let now = 1_800_000_000_000;
    const m = new RollingMetrics(() => now);
    for (let i = 0; i < 10; i++) {
      m.countEvents("arb-opportunities", 500);
      m.countStoreRows(250);
      now += 1_000;
    }
    const s = m.summary();
    assert.equal(s.eventsPerS, 500);
    assert.equal(s.storeRowsPerS, 250);
  });

  it("refuses histograms with other bounds instead of adding them wrong", () => {
    const m = new RollingMetrics();
    const bad = update("arb-1", [1_000], 0, 0, 0n);
    bad.hotpathUs!.bounds = [1, 2, 3];
    m.observe(bad);
    assert.equal(m.rejectedUpdates, 1n);
  });

  it("renders Prometheus text with cumulative histogram buckets", async () => {
    const m = new RollingMetrics();
    m.observe(update("arb-1", [100, 900, 900, 5_000], 2, 1, 5n));
    const text = await prometheusText({ rolling: m, hub: () => new RealtimeHub().stats() });
    assert.match(text, /^mevlab_agent_hotpath_seconds_bucket\{module="arbitrage",le="0\.0001"\} 1$/m);
    assert.match(text, /^mevlab_agent_hotpath_seconds_bucket\{module="arbitrage",le="0\.001"\} 3$/m);
    assert.match(text, /^mevlab_agent_hotpath_seconds_bucket\{module="arbitrage",le="\+Inf"\} 4$/m);
    assert.match(text, /^mevlab_agent_hotpath_seconds_count\{module="arbitrage"\} 4$/m);
    assert.match(text, /^mevlab_agent_bundles_landed_total\{module="arbitrage"\} 1$/m);
    assert.match(text, /^# TYPE mevlab_agent_hotpath_seconds histogram$/m);
    for (const line of text.trim().split("\n")) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+-]+|\w+(\{[^}]*\})? (NaN|[+-]Inf))$/, line);
    }
  });
});
