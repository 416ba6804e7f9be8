/**
 * The agent's market side: each tick draws its opportunities, estimates each with the live model (and
 * the shadow candidate) or the built-in rule, decides under the policy, publishes the opportunities
 * and the bundles it sent, and once a second its metrics. It never trades: the market is simulated.
 */
import {
  AgentState,
  BundleOutcomeSchema,
  MetricsUpdateSchema,
  Module,
  TOPICS,
  create,
  type ArbOpportunity,
  type MevOpportunity,
} from "@mevlab/proto";
import { LatencyHistogram, describe, publishMessage, publishMessages, type Bus } from "@mevlab/kernel-helpers";
import type { ModelHost } from "./model";
import { AgentModels } from "./model";
import { arbDraft, heuristicEstimate, logNormal, mevDraft, type Draft, type Estimate } from "./simulate";
import type { AgentRuntime } from "./state";

/** Simulated latency median (µs) of sending a bundle; the hot path's is each opportunity's own feature. */
const SEND_US = 2_500;
/** Scoring latencies kept for stats() (the most recent). */
const SCORE_KEPT = 200_000;

type Opportunity = ArbOpportunity | MevOpportunity;

export interface TraderOptions {
  module: "arbitrage" | "mev";
  agentId: string;
  bus: Bus;
  random: () => number;
  models: AgentModels;
  log: (line: string) => void;
}

export class Trader {
  private readonly moduleId: Module;
  private slot = 358_000_000n;
  private emitted = 0;
  private credit = 0;
  private readonly hotpath = new LatencyHistogram();
  private readonly send = new LatencyHistogram();
  private interval = { seen: 0n, sent: 0n, landed: 0n, pnl: 0n, since: Date.now() };
  /** Single-row scoring latencies (µs) of the live model, most recent last. */
  private readonly scoreUs: number[] = [];
  /** The same without each batch's first row, which follows up to a tick of idleness (a cold cache). */
  private readonly scoreWarmUs: number[] = [];
  /** Ticks' start times against their schedule: the longest delay since take() (ms). */
  private lastTick = 0;
  private maxLateMs = 0;

  constructor(private readonly o: TraderOptions) {
    this.moduleId = o.module === "mev" ? Module.mev : Module.arbitrage;
  }

  /** One tick: `expected` opportunities before throttling, decided and published. */
  async tick(rt: AgentRuntime, expected: number, tickMs: number): Promise<void> {
    const now = performance.now();
    if (this.lastTick > 0) this.maxLateMs = Math.max(this.maxLateMs, now - this.lastTick - tickMs);
    this.lastTick = now;
    this.credit += expected * (1 - rt.throttlePct / 100);
    const n = Math.floor(this.credit);
    if (n === 0) return;
    this.credit -= n;
    this.slot += 1n;
    const make = this.o.module === "arbitrage" ? arbDraft : mevDraft;
    const drafts: Draft<Opportunity>[] = [];
    for (let i = 0; i < n; i++) drafts.push(make(this.o.random, this.o.agentId, this.slot, this.emitted++, rt));
    const opportunities = await this.decide(drafts, rt);
    if (!opportunities) return;
    await this.publish(opportunities);
  }

  /** The latencies kept since the last call, and the longest tick delay. */
  take(): { scoreUs: number[]; scoreWarmUs: number[]; maxLateMs: number } {
    const out = { scoreUs: this.scoreUs.splice(0), scoreWarmUs: this.scoreWarmUs.splice(0), maxLateMs: this.maxLateMs };
    this.maxLateMs = 0;
    return out;
  }

  /** Undefined when the batch is dropped: the agent stopped while it was scored, or a model failed. */
  private async decide(drafts: Draft<Opportunity>[], rt: AgentRuntime): Promise<Opportunity[] | undefined> {
    // One snapshot per batch: a swap lands between two batches, never inside one.
    const { live, shadow } = this.o.models;
    let liveP: Float32Array | undefined;
    let shadowP: Float32Array | undefined;
    try {
      const inputs = drafts.map((d) => d.inputs);
      [liveP, shadowP] = await Promise.all([this.score(live, inputs, true), this.score(shadow, inputs, false)]);
    } catch (err) {
      this.o.log(`agent ${this.o.agentId}: ${drafts.length} opportunities dropped, a model failed: ${describe(err)}`);
      return undefined;
    }
    if (rt.state !== AgentState.running && rt.state !== AgentState.throttled) return undefined;
    const estimate = (p: Float32Array | undefined, host: ModelHost | undefined, i: number): Estimate | undefined =>
      p && host ? { pLand: p[i], modelId: host.id } : undefined;
    return drafts.map((d, i) =>
      d.complete(estimate(liveP, live, i) ?? heuristicEstimate(d.inputs), estimate(shadowP, shadow, i)),
    );
  }

  private async score(host: ModelHost | undefined, inputs: Draft<Opportunity>["inputs"][], keep: boolean) {
    if (!host) return undefined;
    const s = await host.score(inputs);
    if (keep) {
      s.us.forEach((us, i) => {
        this.scoreUs.push(us);
        if (i > 0) this.scoreWarmUs.push(us);
      });
      for (const kept of [this.scoreUs, this.scoreWarmUs]) {
        if (kept.length > SCORE_KEPT) kept.splice(0, kept.length - SCORE_KEPT);
      }
    }
    return s.p;
  }

  private async publish(opportunities: Opportunity[]): Promise<void> {
    const outcomes = opportunities.flatMap((o) => this.account(o));
    const bus = this.o.bus;
    try {
      const items = opportunities.map((m) => ({ key: m.slot.toString(), message: m }));
      if (this.o.module === "arbitrage") {
        await publishMessages(bus, TOPICS.arbOpportunities, items as { key: string; message: ArbOpportunity }[]);
      } else {
        await publishMessages(bus, TOPICS.mevOpportunities, items as { key: string; message: MevOpportunity }[]);
      }
      if (outcomes.length > 0) {
        await publishMessages(
          bus,
          TOPICS.bundleOutcomes,
          outcomes.map((o) => ({ key: o.bundleId, message: o })),
        );
      }
    } catch (err) {
      this.o.log(`opportunities not sent: ${describe(err)}`);
    }
  }

  /** Latencies and counters of one opportunity; the bundle outcome when one was sent. */
  private account(o: Opportunity) {
    this.hotpath.observe(o.features?.hotpathUs ?? 0);
    this.interval.seen += 1n;
    const outcome = o.outcome;
    if (!outcome) return [];
    const sendUs = logNormal(this.o.random, SEND_US, 0.5);
    this.send.observe(sendUs);
    this.interval.sent += 1n;
    if (outcome.landed) {
      this.interval.landed += 1n;
      // What it realised: a landed bundle can earn less than planned (docs/simulation.md).
      this.interval.pnl += o.counterfactual?.netLamportsIfSent ?? o.profit?.netLamports ?? 0n;
    }
    return [
      create(BundleOutcomeSchema, {
        schemaVersion: 1,
        ts: o.ts,
        bundleId: outcome.bundleId,
        module: this.moduleId,
        agentId: this.o.agentId,
        opportunityId: o.id,
        landed: outcome.landed,
        tipLamports: outcome.tipLamports,
        slot: outcome.landed ? outcome.landedSlot : o.slot,
        latencyMs: Math.max(1, Math.round(sendUs / 1000)),
      }),
    ];
  }

  /** One MetricsUpdate per second: this interval's histograms and counters. */
  async reportMetrics(): Promise<void> {
    const now = Date.now();
    const iv = this.interval;
    this.interval = { seen: 0n, sent: 0n, landed: 0n, pnl: 0n, since: now };
    const update = create(MetricsUpdateSchema, {
      schemaVersion: 1,
      ts: BigInt(now),
      agentId: this.o.agentId,
      module: this.moduleId,
      hotpathUs: this.hotpath.take(),
      sendUs: this.send.take(),
      opportunitiesSeen: iv.seen,
      bundlesSent: iv.sent,
      bundlesLanded: iv.landed,
      pnlLamports: iv.pnl,
      intervalMs: now - iv.since,
    });
    try {
      await publishMessage(this.o.bus, TOPICS.agentMetrics, this.o.agentId, update);
    } catch (err) {
      this.o.log(`metrics not sent: ${describe(err)}`);
    }
  }
}
