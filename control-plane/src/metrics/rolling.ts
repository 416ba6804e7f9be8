import { LATENCY_BOUNDS_US, SkippedRecords, addHistogram, quantileOf } from "@mevlab/kernel-helpers";
import { Module, type MetricsSummary, type MetricsUpdate, type NodeStatus } from "@mevlab/proto";

const LAMPORTS_PER_SOL = 1_000_000_000;
const WINDOW_S = 3_600;
const LATENCY_WINDOW_S = 60;
const LANDED_WINDOW_S = 600;
const RATE_WINDOW_S = 10;
/**
 * Seconds kept: the hour of the PnL window, and the 10 min before it, so that a point of the history
 * an hour ago still has its whole landed-share window (history.ts).
 */
export const KEPT_S = WINDOW_S + LANDED_WINDOW_S;
export const WINDOWS_S = { latency: LATENCY_WINDOW_S, landed: LANDED_WINDOW_S, pnl: WINDOW_S } as const;

/** One second of every agent's metrics, plus the control plane's own counts. */
export interface Second {
  at: number;
  hotpath: number[];
  send: number[];
  sent: number;
  landed: number;
  pnlLamports: bigint;
  events: number;
  storeRows: number;
  agents: Set<string>;
}

/** Totals since the control plane started, per module, for Prometheus counters and histograms. */
export interface ModuleTotals {
  hotpath: number[];
  hotpathSum: number;
  send: number[];
  sendSum: number;
  seen: bigint;
  sent: bigint;
  landed: bigint;
  pnlLamports: bigint;
}

const zeros = (): number[] => new Array<number>(LATENCY_BOUNDS_US.length + 1).fill(0);

/**
 * Rolling windows over the agents' per-second MetricsUpdate: hot path and send latency (60 s), landed
 * share (10 min), PnL (1 h), events and store rows per second (10 s). One slot per second for the
 * last hour; each update lands in the second it was received.
 */
export class RollingMetrics {
  private readonly seconds: Second[] = new Array<Second>(KEPT_S);
  /** When this instance started counting (ms): the history begins here. */
  readonly startedAt: number;
  readonly totals = new Map<Module, ModuleTotals>();
  readonly eventsByTopic = new Map<string, bigint>();
  /** Records nobody will act on, per topic and reason: an unknown schema major, a misrouted command. */
  readonly skipped = new SkippedRecords();
  /** Link frames refused to an agent (link-guard.ts), per agent id (`topic`) and frame kind (`reason`). */
  readonly linkRefused = new SkippedRecords();
  storeRowsTotal = 0n;
  rejectedUpdates = 0n;
  node?: NodeStatus;

  constructor(readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  private slot(t = this.now()): Second {
    const at = Math.floor(t / 1000);
    const i = at % KEPT_S;
    let s = this.seconds[i];
    if (!s || s.at !== at) {
      s = {
        at,
        hotpath: zeros(),
        send: zeros(),
        sent: 0,
        landed: 0,
        pnlLamports: 0n,
        events: 0,
        storeRows: 0,
        agents: new Set(),
      };
      this.seconds[i] = s;
    }
    return s;
  }

  observe(update: MetricsUpdate): void {
    const s = this.slot();
    const okH = addHistogram(s.hotpath, LATENCY_BOUNDS_US, update.hotpathUs);
    const okS = addHistogram(s.send, LATENCY_BOUNDS_US, update.sendUs);
    if ((update.hotpathUs && !okH) || (update.sendUs && !okS)) this.rejectedUpdates += 1n;
    s.sent += Number(update.bundlesSent);
    s.landed += Number(update.bundlesLanded);
    s.pnlLamports += update.pnlLamports;
    s.agents.add(update.agentId);
    let t = this.totals.get(update.module);
    if (!t) {
      t = {
        hotpath: zeros(),
        hotpathSum: 0,
        send: zeros(),
        sendSum: 0,
        seen: 0n,
        sent: 0n,
        landed: 0n,
        pnlLamports: 0n,
      };
      this.totals.set(update.module, t);
    }
    if (okH && update.hotpathUs) {
      addHistogram(t.hotpath, LATENCY_BOUNDS_US, update.hotpathUs);
      t.hotpathSum += update.hotpathUs.sum;
    }
    if (okS && update.sendUs) {
      addHistogram(t.send, LATENCY_BOUNDS_US, update.sendUs);
      t.sendSum += update.sendUs.sum;
    }
    t.seen += update.opportunitiesSeen;
    t.sent += update.bundlesSent;
    t.landed += update.bundlesLanded;
    t.pnlLamports += update.pnlLamports;
  }

  countEvents(topic: string, n = 1): void {
    this.slot().events += n;
    this.eventsByTopic.set(topic, (this.eventsByTopic.get(topic) ?? 0n) + BigInt(n));
  }

  countStoreRows(n: number): void {
    this.slot().storeRows += n;
    this.storeRowsTotal += BigInt(n);
  }

  /** The seconds of the last `n`, oldest first, that have data. */
  private last(n: number): Second[] {
    const now = Math.floor(this.now() / 1000);
    const out: Second[] = [];
    for (let at = now - n + 1; at <= now; at++) {
      const s = this.at(at);
      if (s) out.push(s);
    }
    return out;
  }

  /** The second `at` (seconds since the epoch) when it had data and is still kept. */
  at(at: number): Readonly<Second> | undefined {
    const s = this.seconds[at % KEPT_S];
    return s && s.at === at ? s : undefined;
  }

  /** Net lamports of every module's landed bundles since this control plane started. */
  pnlTotalLamports(): bigint {
    let sum = 0n;
    for (const t of this.totals.values()) sum += t.pnlLamports;
    return sum;
  }

  summary(): MetricsSummary {
    const hot = zeros();
    const send = zeros();
    for (const s of this.last(LATENCY_WINDOW_S)) {
      for (let i = 0; i < hot.length; i++) {
        hot[i] += s.hotpath[i];
        send[i] += s.send[i];
      }
    }
    let sent = 0;
    let landed = 0;
    for (const s of this.last(LANDED_WINDOW_S)) {
      sent += s.sent;
      landed += s.landed;
    }
    let pnl = 0n;
    for (const s of this.last(WINDOW_S)) pnl += s.pnlLamports;
    let events = 0;
    let rows = 0;
    const agents = new Set<string>();
    // Rates over the 10 whole seconds before this one (the current second is still filling).
    const recent = this.last(RATE_WINDOW_S + 1).filter((s) => s.at < Math.floor(this.now() / 1000));
    for (const s of recent) {
      events += s.events;
      rows += s.storeRows;
      for (const a of s.agents) agents.add(a);
    }
    const ms = (us: number): number => (Number.isNaN(us) ? 0 : Math.round(us) / 1000);
    return {
      $typeName: "mevlab.v1.MetricsSummary",
      ts: BigInt(this.now()),
      hotpathP50: ms(quantileOf(hot, LATENCY_BOUNDS_US, 0.5)),
      hotpathP99: ms(quantileOf(hot, LATENCY_BOUNDS_US, 0.99)),
      sendP50: ms(quantileOf(send, LATENCY_BOUNDS_US, 0.5)),
      sendP99: ms(quantileOf(send, LATENCY_BOUNDS_US, 0.99)),
      landedPct: sent === 0 ? 0 : landed / sent,
      pnl1h: Number(pnl) / LAMPORTS_PER_SOL,
      eventsPerS: events / RATE_WINDOW_S,
      storeRowsPerS: rows / RATE_WINDOW_S,
      bundlesSent10m: BigInt(sent),
      bundlesLanded10m: BigInt(landed),
      agentsReporting: agents.size,
      node: this.node,
    };
  }
}
