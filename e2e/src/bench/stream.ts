// Live-stream throughput through a real Kafka broker: a producer (the agents' own event generator)
// publishes arb opportunities at rising rates; the control plane (its own process, event sink on)
// fans them out to 10 WS clients — 8 protobuf, 1 NDJSON, 1 that reads nothing. Reported: sustained
// events/s delivered per client, event age (emit → client receive), control-plane RSS, bytes per
// event per format, the slow client's queue peak; and, in the same run on the same broker, the raw
// kafkajs consume rate of that topic without fan-out.
// `npm run bench:stream -- --json [--stage-s 5] [--rates 2000,4000,8000,16000]`
import { readFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { arbOpportunity, initialRuntime, rng } from "@mevlab/agents";
import { KafkaBus, publishMessages } from "@mevlab/kernel-helpers";
import { ArbOpportunitySchema, Format, Stream, TOPICS, clone, type ArbOpportunity } from "@mevlab/proto";
import { RealtimeProbe } from "../probe";
import { kafkaStack, login, percentile, waitFor } from "../stack";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const json = args.includes("--json");
const stageMs = Number(opt("stage-s", "5")) * 1000;
const rates = opt("rates", "2000,4000,8000,16000").split(",").map(Number);
const log = (line: string): void => void (json ? process.stderr : process.stdout).write(line + "\n");
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

async function main(): Promise<void> {
  const stack = await kafkaStack({ agentsPerModule: 0 });
  const producer = new KafkaBus({ brokers: [stack.kafka!.brokers], clientId: "bench-producer" });
  await producer.connect();
  try {
    const token = await login(stack.url, stack.viewer.username, stack.viewer.password);
    const cpPid = stack.pids!.controlPlane;

    // A pool of realistic events, re-stamped (id, ts) as they are sent.
    const r = rng(3);
    const rt = initialRuntime(false);
    const pool: ArbOpportunity[] = Array.from({ length: 4000 }, (_, i) =>
      arbOpportunity(r, `bench-${i % 4}`, 362_000_000n + BigInt(i >> 4), i, rt),
    );
    let sent = 0;
    const next = (): ArbOpportunity => {
      const m = clone(ArbOpportunitySchema, pool[sent % pool.length]);
      m.id = `bench-${sent++}`;
      m.ts = BigInt(Date.now());
      return m;
    };

    const clients = [
      ...Array.from({ length: 8 }, () => ({
        probe: new RealtimeProbe(stack.url, token, { record: false }),
        format: Format.protobuf,
      })),
      { probe: new RealtimeProbe(stack.url, token, { record: false }), format: Format.ndjson },
    ];
    const slow = new RealtimeProbe(stack.url, token, { record: false });
    const counts = clients.map(() => 0);
    let ages: number[] = [];
    clients.forEach((c, i) => {
      // Counted per frame; ages from the first (oldest) and last event of every frame.
      c.probe.onLight = (count, timestamps, at) => {
        counts[i] += count;
        for (const ts of timestamps) ages.push(at - ts);
      };
    });
    await Promise.all(clients.map((c) => c.probe.subscribe({ streams: [Stream.arb_opportunity], format: c.format })));
    await slow.subscribe({ streams: [Stream.arb_opportunity] });
    slow.pause();

    // Warm up until events flow end to end.
    for (let i = 0; i < 100 && counts[0] === 0; i++) {
      await publishMessages(
        producer,
        TOPICS.arbOpportunities,
        [next()].map((m) => ({ key: m.slot.toString(), message: m })),
      );
      await new Promise((res) => setTimeout(res, 200));
    }

    // Warm-up at the first rate, not reported: every process (broker, control plane, clients) gets its
    // code optimised before anything is measured.
    {
      const t0 = Date.now();
      let due = 0;
      while (Date.now() - t0 < Math.min(stageMs, 5_000)) {
        const want = Math.floor((rates[0] * (Date.now() - t0)) / 1000) - due;
        if (want > 0) {
          due += want;
          await publishMessages(
            producer,
            TOPICS.arbOpportunities,
            Array.from({ length: want }, next).map((m) => ({ key: m.slot.toString(), message: m })),
          );
        }
        await new Promise((res) => setTimeout(res, 20));
      }
      await new Promise((res) => setTimeout(res, 1_000));
    }

    const stages: {
      target_eps: number;
      produced_eps: number;
      delivered_eps_per_client: { min: number; median: number };
      age_ms: { p50: number; p99: number };
      rss_mb_max: number;
    }[] = [];
    let rssMax = 0;
    for (const rate of rates) {
      const before = [...counts];
      ages = [];
      const sentBefore = sent;
      const t0 = Date.now();
      const tickMs = 20;
      let due = 0;
      while (Date.now() - t0 < stageMs) {
        const elapsed = Date.now() - t0;
        const want = Math.floor((rate * elapsed) / 1000) - due;
        if (want > 0) {
          const batch = Array.from({ length: want }, next);
          due += want;
          await publishMessages(
            producer,
            TOPICS.arbOpportunities,
            batch.map((m) => ({ key: m.slot.toString(), message: m })),
          );
        }
        rssMax = Math.max(rssMax, rssMb(cpPid));
        await new Promise((res) => setTimeout(res, tickMs));
      }
      const producedEps = ((sent - sentBefore) * 1000) / (Date.now() - t0);
      // Let the pipeline drain for up to 2 s, then count what arrived for this stage.
      await waitFor("drain", () => counts.every((c, i) => c - before[i] >= sent - sentBefore), 2_000).catch(
        () => undefined,
      );
      const secs = (Date.now() - t0) / 1000;
      const per = counts.map((c, i) => (c - before[i]) / secs).sort((a, b) => a - b);
      ages.sort((a, b) => a - b);
      const stage = {
        target_eps: rate,
        produced_eps: round(producedEps),
        delivered_eps_per_client: { min: round(per[0]), median: round(per[Math.floor(per.length / 2)]) },
        age_ms: { p50: round(percentile(ages, 50)), p99: round(percentile(ages, 99)) },
        rss_mb_max: round(rssMax),
      };
      stages.push(stage);
      log(`stage ${rate}/s: ${JSON.stringify(stage)}`);
    }

    const metrics = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }).then((x) =>
      x.text(),
    );
    const slowQueueMax = Number(/^mevlab_ws_queue_bytes_max (\d+)/m.exec(metrics)?.[1] ?? NaN);
    const ndjson = clients[8].probe;
    const proto = clients[0].probe;

    // The floor: the same topic read by a bare kafkajs consumer from the start, no decoding, no fan-out.
    const raw = await rawConsumeRate(stack.kafka!.brokers, sent);
    // Sustained: the fastest stage every client kept up with (≥ 95 % of what was produced) within 100 ms p99.
    const kept = stages.filter((s) => s.delivered_eps_per_client.min >= 0.95 * s.produced_eps && s.age_ms.p99 <= 100);
    const best = kept.length ? kept[kept.length - 1] : stages[0];
    const out = {
      raw_consume_eps: round(raw),
      delivered_eps_per_client: best.delivered_eps_per_client,
      age_ms: best.age_ms,
      sustained_stage_eps: best.target_eps,
      delivered_vs_raw: round(best.delivered_eps_per_client.min / raw, 3),
      slow_client_queue_bytes_max: slowQueueMax,
      slow_client_queue_cap_bytes: 4 * 1024 * 1024,
      rss_mb_max: round(rssMax),
      bytes_per_event: {
        ndjson: round(ndjson.bytes / Math.max(1, counts[8]), 1),
        protobuf: round(proto.bytes / Math.max(1, counts[0]), 1),
      },
      ndjson_vs_protobuf: round(ndjson.bytes / counts[8] / (proto.bytes / counts[0]), 2),
      stages,
      events_published: sent,
      clients: { protobuf: 8, ndjson: 1, slow: 1 },
    };
    await Promise.all([...clients.map((c) => c.probe.close()), slow.close()]);
    if (json) process.stdout.write(JSON.stringify(out) + "\n");
    else log(JSON.stringify(out, null, 2));
  } finally {
    await producer.close();
    await stack.stop();
  }
}

async function rawConsumeRate(brokers: string, total: number): Promise<number> {
  const kafka = new Kafka({ clientId: "bench-raw", brokers: [brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-raw-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.arbOpportunities.name], fromBeginning: true });
  let n = 0;
  let t0 = 0;
  let t1 = 0;
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (t0 === 0) t0 = performance.now();
      n += batch.messages.length;
      t1 = performance.now();
    },
  });
  await waitFor("raw consumer to read the topic", () => n >= total, 120_000).catch(() => undefined);
  await consumer.disconnect();
  return (n * 1000) / Math.max(1, t1 - t0);
}

main().catch((err) => {
  process.stderr.write(`bench:stream failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
