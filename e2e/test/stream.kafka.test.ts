// Live streams through a real Kafka broker: the control plane consumes the agents' topics (here fed
// by a test producer with the agents' own event generators) and fans them out over /api/realtime/ws.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { arbOpportunity, initialRuntime, mevOpportunity, rng } from "@mevlab/agents";
import { startKafka, type KafkaBroker } from "@mevlab/cli";
import { agentKeyFor, startControlPlane, type ControlPlane } from "@mevlab/control-plane";
import { KafkaBus, publishMessages, sealStatus } from "@mevlab/kernel-helpers";
import {
  AgentState,
  AgentStatusSchema,
  EventSchema,
  Format,
  Module,
  Stream,
  TOPICS,
  create,
  toBinary,
  type ArbOpportunity,
  type Event,
  type MevOpportunity,
} from "@mevlab/proto";
import { RealtimeProbe } from "../src/probe";
import { waitFor } from "../src/stack";

const REPLAY = 300;
const QUEUE_CAP = 1024 * 1024;

describe("live streams on a real Kafka broker", { timeout: 240_000 }, () => {
  let kafka: KafkaBroker;
  let cpBus: KafkaBus;
  let producer: KafkaBus;
  let cp: ControlPlane;
  let dataDir: string;
  let token: string;
  const r = rng(7);
  const rt = initialRuntime(false);
  let n = 0;
  let slot = 360_000_000n;

  /**
   * The opportunity ids the running test published (the warm-up's, in `before`): probes keep only
   * these, so what an earlier test left in flight (one that timed out) cannot fail the next one.
   */
  let owned = new Set<string>();
  const arb = (): ArbOpportunity => {
    const m = arbOpportunity(r, "arb-t", (slot += n % 3 === 0 ? 1n : 0n), n++, rt);
    owned.add(m.id);
    return m;
  };
  const mev = (): MevOpportunity => {
    const m = mevOpportunity(r, "mev-t", slot, n++, rt);
    owned.add(m.id);
    return m;
  };

  async function publishArb(count: number): Promise<ArbOpportunity[]> {
    const items = Array.from({ length: count }, arb);
    for (let i = 0; i < items.length; i += 200) {
      await publishMessages(
        producer,
        TOPICS.arbOpportunities,
        items.slice(i, i + 200).map((m) => ({ key: m.slot.toString(), message: m })),
      );
    }
    return items;
  }

  async function publishMev(count: number): Promise<MevOpportunity[]> {
    const items = Array.from({ length: count }, mev);
    await publishMessages(
      producer,
      TOPICS.mevOpportunities,
      items.map((m) => ({ key: m.slot.toString(), message: m })),
    );
    return items;
  }

  const idOf = (e: Event): string =>
    e.payload.case === "arbOpportunity" || e.payload.case === "mevOpportunity" ? e.payload.value.id : "";
  const ids = (events: Event[]): string[] => events.map(idOf);
  /** Every probe a test opens; closed after each test, whether it passed or not. */
  const opened: RealtimeProbe[] = [];
  /** A probe that records only the opportunities of the running test (and every other kind of event). */
  const probe = (): RealtimeProbe => {
    const p = new RealtimeProbe(cp.url, token, { record: false });
    p.onEvents = (events, at) => {
      for (const e of events) {
        const id = idOf(e);
        if (id && !owned.has(id)) continue;
        p.events.push(e);
        p.receivedAt.push(at);
      }
    };
    opened.push(p);
    return p;
  };

  before(async () => {
    kafka = await startKafka();
    cpBus = new KafkaBus({ brokers: [kafka.brokers], clientId: "cp-stream-test" });
    producer = new KafkaBus({ brokers: [kafka.brokers], clientId: "producer-stream-test" });
    await Promise.all([cpBus.connect(), producer.connect()]);
    dataDir = mkdtempSync(join(tmpdir(), "mevlab-stream-"));
    cp = await startControlPlane({
      dataDir,
      bus: cpBus,
      port: 0,
      sink: false,
      hub: { replayPerStream: REPLAY, maxQueueBytes: QUEUE_CAP, socketHighWaterBytes: 64 * 1024 },
      log: () => undefined,
    });
    token = await cp.tokens.issue("viewer-1", "viewer", 900);
    // The control plane's consumers start at the end of the topics: wait until one event gets through.
    // All under one key, so in one partition and in order: once the last one published has arrived,
    // none of the warm-up is still on its way to arrive in the middle of the first test.
    const warm = probe();
    await warm.subscribe({ streams: [Stream.arb_opportunity] });
    let lastWarm = "";
    for (let i = 0; i < 200 && warm.events.length === 0; i++) {
      const m = arb();
      lastWarm = m.id;
      await publishMessages(producer, TOPICS.arbOpportunities, [{ key: "warm-up", message: m }]);
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(warm.events.length > 0, "no event came through the broker");
    await waitFor("the last warm-up event", () => ids(warm.events).includes(lastWarm), 30_000);
    await warm.close();
  });

  beforeEach(() => {
    owned = new Set();
  });

  afterEach(async () => {
    for (const p of opened.splice(0)) {
      try {
        p.resume(); // a paused one could not read the server's close frame
      } catch {
        // never connected: nothing to resume
      }
      await p.close();
    }
  });

  after(async () => {
    await cp?.close();
    await cpBus?.close();
    await producer?.close();
    await kafka?.stop();
  });

  it("keeps per-stream order, and NDJSON and protobuf clients decode the same events", async () => {
    const text = probe();
    const bin = probe();
    await text.subscribe({ streams: [Stream.arb_opportunity, Stream.mev_opportunity], format: Format.ndjson });
    await bin.subscribe({ streams: [Stream.arb_opportunity, Stream.mev_opportunity], format: Format.protobuf });
    const arbs = await publishArb(1500);
    const mevs = await publishMev(500);
    await waitFor(
      "2000 events on both clients",
      () => text.events.length >= 2000 && bin.events.length >= 2000,
      30_000,
    ).catch((err) => {
      throw new Error(
        `${(err as Error).message}: text ${text.events.length} (${text.gaps.length} gaps, ${text.errors.join()}) bin ${bin.events.length}`,
      );
    });
    assert.equal(text.events.length, 2000);
    for (const stream of [Stream.arb_opportunity, Stream.mev_opportunity]) {
      const seqs = text.events.filter((e) => e.stream === stream).map((e) => e.seq);
      for (let i = 1; i < seqs.length; i++)
        assert.equal(seqs[i], seqs[i - 1] + 1n, `${Stream[stream]} seq step at ${i}`);
    }
    // Order per key (slot): Kafka keeps it inside a partition, the hub keeps it across the fan-out.
    const published = new Map<string, string[]>();
    for (const m of [...arbs, ...mevs])
      published.set(`${m.id.slice(0, 3)}${m.slot}`, [...(published.get(`${m.id.slice(0, 3)}${m.slot}`) ?? []), m.id]);
    const seen = new Map<string, string[]>();
    for (const e of text.events) {
      const v = e.payload.value as ArbOpportunity | MevOpportunity;
      const k = `${v.id.slice(0, 3)}${v.slot}`;
      seen.set(k, [...(seen.get(k) ?? []), v.id]);
    }
    assert.deepEqual(seen, published);
    assert.deepEqual(
      text.events.map((e) => Buffer.from(toBinary(EventSchema, e)).toString("hex")),
      bin.events.map((e) => Buffer.from(toBinary(EventSchema, e)).toString("hex")),
      "NDJSON and protobuf frames carry the same events",
    );
    assert.ok(text.bytes > 2 * bin.bytes, `NDJSON ${text.bytes} B vs protobuf ${bin.bytes} B`);
    await Promise.all([text.close(), bin.close()]);
  });

  it("filters by module, DEX and minimum net SOL", async () => {
    const all = probe();
    const orca = probe();
    const rich = probe();
    const mevOnly = probe();
    await all.subscribe({});
    await orca.subscribe({ streams: [Stream.arb_opportunity, Stream.mev_opportunity], dexes: ["ORCA"] });
    await rich.subscribe({ streams: [Stream.arb_opportunity], minNetSol: 0.003 });
    await mevOnly.subscribe({ modules: [Module.mev], streams: [Stream.arb_opportunity, Stream.mev_opportunity] });
    const arbs = await publishArb(400);
    const mevs = await publishMev(400);
    const expectOrca = [
      ...arbs.filter((a) => a.route.some((h) => h.dex === "Orca")).map((a) => a.id),
      ...mevs.filter((m) => m.dex === "Orca").map((m) => m.id),
    ].sort();
    const expectRich = arbs.filter((a) => (a.profit?.netSol ?? 0) >= 0.003).map((a) => a.id);
    await waitFor(
      "800 opportunities on the unfiltered client",
      () => ids(all.events).filter(Boolean).length >= 800,
      30_000,
    );
    await waitFor(
      "filtered clients",
      () =>
        orca.events.length >= expectOrca.length &&
        rich.events.length >= expectRich.length &&
        mevOnly.events.length >= 400,
      30_000,
    );
    await new Promise((res) => setTimeout(res, 200));
    assert.ok(expectOrca.length > 50 && expectOrca.length < 750, `a real filter: ${expectOrca.length} Orca events`);
    assert.deepEqual(ids(orca.events).sort(), expectOrca);
    // Kafka orders per partition (key), not across partitions: compare as sets.
    assert.deepEqual(ids(rich.events).sort(), expectRich.sort());
    assert.deepEqual(ids(mevOnly.events).sort(), mevs.map((m) => m.id).sort());
    await Promise.all([all.close(), orca.close(), rich.close(), mevOnly.close()]);
  });

  it("resumes with since_seq without loss or duplicates, and says Gap when the replay buffer is exceeded", async () => {
    // Subscribed for the whole test: its seq says how far the control plane has taken in the topic.
    const watcher = probe();
    await watcher.subscribe({ streams: [Stream.arb_opportunity] });
    const taken = (seq: bigint) => () => (watcher.lastSeq().arb_opportunity ?? -1n) >= seq;
    const first = probe();
    const hello = await first.subscribe({ streams: [Stream.arb_opportunity] });
    await publishArb(100);
    await waitFor("100 events", () => first.events.length >= 100, 30_000);
    const last = first.lastSeq().arb_opportunity;
    await first.close();

    const missed = await publishArb(120);
    await waitFor("the control plane to take in the 120 missed events", taken(last + 120n), 30_000);
    const back = probe();
    await back.subscribe({
      streams: [Stream.arb_opportunity],
      sinceSeq: { arb_opportunity: last },
      epoch: hello.epoch,
    });
    await waitFor("the 120 missed events", () => back.events.length >= 120, 30_000);
    assert.deepEqual(ids(back.events).sort(), missed.map((m) => m.id).sort());
    assert.equal(back.events[0].seq, last + 1n);
    assert.equal(back.gaps.length, 0);
    const resumedAt = back.lastSeq().arb_opportunity;
    await back.close();

    // More than the buffer holds: the first ones are announced as lost, exactly.
    const many = await publishArb(REPLAY + 200);
    await waitFor(
      `the control plane to take in all ${REPLAY + 200} events`,
      taken(resumedAt + BigInt(REPLAY + 200)),
      30_000,
    );
    const late = probe();
    await late.subscribe({
      streams: [Stream.arb_opportunity],
      sinceSeq: { arb_opportunity: resumedAt },
      epoch: hello.epoch,
    });
    await waitFor("the buffered events", () => late.events.length >= REPLAY, 30_000);
    assert.equal(late.gaps.length, 1);
    assert.equal(late.gaps[0].lost, 200n);
    assert.equal(late.gaps[0].fromSeq, resumedAt + 1n);
    assert.equal(late.gaps[0].toSeq, resumedAt + 200n);
    assert.deepEqual(
      late.events.map((e) => e.seq),
      Array.from({ length: REPLAY }, (_, i) => resumedAt + 201n + BigInt(i)),
    );
    const manyIds = new Set(many.map((m) => m.id));
    assert.equal(new Set(ids(late.events)).size, REPLAY);
    assert.ok(ids(late.events).every((id) => manyIds.has(id)));

    // Another epoch (a restarted control plane) is said, not silently mixed up.
    const other = probe();
    await other.subscribe({
      streams: [Stream.arb_opportunity],
      sinceSeq: { arb_opportunity: 5n },
      epoch: "0000deadbeef",
    });
    await waitFor("a restart gap", () => other.gaps.length > 0, 30_000);
    assert.match(other.gaps[0].reason, /restarted/);
    await Promise.all([late.close(), other.close()]);
  });

  it("a client that reads nothing for 10 s does not slow the others; its queue stays under its cap", async () => {
    const fast = probe();
    const slow = probe();
    await fast.subscribe({ streams: [Stream.arb_opportunity, Stream.agent_status], format: Format.protobuf });
    await slow.subscribe({ streams: [Stream.arb_opportunity, Stream.agent_status] });
    slow.pause();
    const start = fast.events.length;
    let published = 0;
    const metrics = () =>
      fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((x) => x.text());
    const dropped = /mevlab_ws_events_dropped_total\{stream="arb_opportunity"\} [1-9]/;
    // 10 s at least; then on until the hub has dropped some of the slow client's events (on a busy
    // machine 10 s may publish too little to fill its queue), 40 s at most.
    const minUntil = Date.now() + 10_000;
    const maxUntil = Date.now() + 40_000;
    let statusVersion = 0n;
    while (Date.now() < minUntil || (Date.now() < maxUntil && !dropped.test(await metrics()))) {
      const batch = Array.from({ length: 100 }, () => {
        const m = arb();
        m.ts = BigInt(Date.now());
        return m;
      });
      await publishMessages(
        producer,
        TOPICS.arbOpportunities,
        batch.map((m) => ({ key: m.slot.toString(), message: m })),
      );
      published += batch.length;
      statusVersion += 1n;
      await publishMessages(
        producer,
        TOPICS.agentStatus,
        ["a1", "a2", "a3"].map((id) => ({
          key: id,
          // Sealed as the agent of that id would (agent_mac under its own key).
          message: sealStatus(
            create(AgentStatusSchema, {
              agentId: id,
              module: Module.arbitrage,
              state: AgentState.running,
              commandsApplied: statusVersion,
              ts: BigInt(Date.now()),
            }),
            agentKeyFor(dataDir, id),
          ),
        })),
      );
      await new Promise((res) => setTimeout(res, 40));
    }
    await waitFor(
      "every event on the fast client",
      () => fast.events.slice(start).filter((e) => e.stream === Stream.arb_opportunity).length >= published,
      30_000,
    );
    const ages: number[] = [];
    fast.events.forEach((e, i) => {
      if (e.payload.case === "arbOpportunity") ages.push(fast.receivedAt[i] - Number(e.payload.value.ts));
    });
    ages.sort((a, b) => a - b);
    const p99 = ages[Math.floor(ages.length * 0.99)];
    assert.ok(p99 < 1_000, `fast client p99 age ${p99} ms while the slow one stalls`);
    const stats = await metrics();
    const queueMax = Number(/^mevlab_ws_queue_bytes_max (\d+)/m.exec(stats)?.[1]);
    // The cap bounds what the hub holds; one event may cross it before the oldest are dropped.
    assert.ok(queueMax <= QUEUE_CAP + 8 * 1024, `slow client's queue peaked at ${queueMax} B (cap ${QUEUE_CAP})`);
    assert.match(stats, /mevlab_ws_events_dropped_total\{stream="arb_opportunity"\} [1-9]/);

    slow.resume();
    const lostCount = (): bigint =>
      slow.gaps.filter((g) => g.stream === Stream.arb_opportunity).reduce((s, g) => s + g.lost, 0n);
    await waitFor(
      "the slow client to account for every event",
      () =>
        BigInt(slow.events.filter((e) => e.stream === Stream.arb_opportunity).length) + lostCount() >=
        BigInt(published),
      30_000,
    );
    const got = slow.events.filter((e) => e.stream === Stream.arb_opportunity);
    assert.ok(lostCount() > 0n, "the slow client lost some opportunities");
    assert.equal(BigInt(got.length) + lostCount(), BigInt(published), "received + announced lost = published");
    for (let i = 1; i < got.length; i++) assert.ok(got[i].seq > got[i - 1].seq);
    // Status is never dropped: only superseded; the latest of every agent arrives.
    assert.ok(slow.gaps.filter((g) => g.stream === Stream.agent_status).every((g) => /superseded/.test(g.reason)));
    await waitFor(
      "latest status of each agent",
      () =>
        ["a1", "a2", "a3"].every((id) =>
          slow.events.some(
            (e) =>
              e.payload.case === "agentStatus" &&
              e.payload.value.agentId === id &&
              e.payload.value.commandsApplied === statusVersion,
          ),
        ),
      30_000,
    );
    await Promise.all([fast.close(), slow.close()]);
  });
});
