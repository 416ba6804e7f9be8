// Control-loop latency on the local bus and on a real Kafka broker, side by side in one run:
// POST → final request state on the WS (sequential, and with 10 concurrent senders), kill-all until
// every agent acked, and the floor of each: the raw produce → consume time of one Kafka hop on the
// same (warm) broker, and for the local bus the same processes and messages with no mevlab code
// (floor.ts). `npm run bench:control -- --json [--n 1000] [--only local|kafka]` prints one JSON object.
import { randomUUID } from "node:crypto";
import { ControlPlaneClient, KafkaBus, nodeTransport } from "@mevlab/kernel-helpers";
import { ControlRequest_State, TOPICS } from "@mevlab/proto";
import { startKafka, type KafkaBroker } from "@mevlab/cli";
import { embeddedStack, kafkaStack, percentile, waitFor, type Stack } from "../stack";
import { localFloor } from "./floor";

interface Pct {
  p50: number;
  p99: number;
  mean: number;
  max: number;
  n: number;
}

/**
 * Steady state, not start-up. Six Node processes compile their hot paths on two cores: on the local
 * bus successive blocks of 1,000 commands from a fresh stack have a p50 of about 2.1, 1.4, 1.2, 1.0 ms
 * and level off near 0.9–1.0 ms after about 6,000 commands. The JIT counts calls, not seconds: on
 * Kafka, where a command takes longer, 10 s are fewer than 1,000 commands, and the broker's JVM has
 * its own warm-up. Each stack takes at least WARMUP_COMMANDS and WARMUP_MS before any is measured.
 */
const WARMUP_MS = 10_000;
const WARMUP_COMMANDS = 6_000;

const round = (x: number) => Math.round(x * 1000) / 1000;

function summarize(samples: number[]): Pct {
  const s = [...samples].sort((a, b) => a - b);
  return {
    p50: round(percentile(s, 50)),
    p99: round(percentile(s, 99)),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    max: round(s[s.length - 1]),
    n: s.length,
  };
}

async function applied(p: Promise<{ request: { state: ControlRequest_State; reason: string }; latencyMs: number }>) {
  const r = await p;
  if (r.request.state !== ControlRequest_State.applied) {
    throw new Error(`request ${ControlRequest_State[r.request.state]}: ${r.request.reason}`);
  }
  return r.latencyMs;
}

async function measure(stack: Stack, n: number, killAlls: number) {
  const client = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  try {
    await waitFor(
      "4 agents",
      async () => ((await client.agents()).agents.filter((a) => !a.stale).length >= 4 ? true : undefined),
      30_000,
    );
    const throttle = (i: number) => applied(client.command("mev", "throttle", { throttle_pct: i % 100 }));
    // Steady state, not start-up: WARMUP_COMMANDS commands and WARMUP_MS before any is measured, so
    // that the JIT has compiled the hot paths of every process on the way.
    const warmupStart = performance.now();
    const warmup: number[] = [];
    for (let i = 0; i < WARMUP_COMMANDS || performance.now() - warmupStart < WARMUP_MS; i++)
      warmup.push(await throttle(i));
    // The p50 of each full block of 1,000 warm-up commands: shows that the measured part is past it.
    const warmupBlocks: number[] = [];
    for (let b = 0; b + 1000 <= warmup.length; b += 1000) warmupBlocks.push(summarize(warmup.slice(b, b + 1000)).p50);
    const seq: number[] = [];
    for (let i = 0; i < n; i++) seq.push(await throttle(i));
    const conc: number[] = [];
    const perSender = Math.ceil(n / 10);
    await Promise.all(
      Array.from({ length: 10 }, async (_, s) => {
        const module = s % 2 ? "mev" : "arbitrage";
        for (let i = 0; i < perSender; i++)
          conc.push(await applied(client.command(module, "throttle", { throttle_pct: i % 100 })));
      }),
    );
    const kill: number[] = [];
    for (let i = 0; i < killAlls; i++) {
      kill.push(await applied(client.killAll()));
      await applied(client.command("arbitrage", "start"));
      await applied(client.command("mev", "start"));
    }
    return {
      rtt_ms: summarize(seq),
      rtt_concurrent_ms: summarize(conc),
      kill_all_ms: summarize(kill),
      warmup_commands: warmup.length,
      warmup_block_p50_ms: warmupBlocks,
    };
  } finally {
    await client.close();
  }
}

/**
 * One produce → consume hop through the broker with the same client library, nothing else: on the
 * same broker right after the control loop was measured through it (warm, its JIT done), with the
 * stack's processes still up but idle.
 */
async function rawHop(kafka: KafkaBroker, n: number): Promise<Pct> {
  const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "bench-raw", topics: [] });
  const topic = `bench-raw-${randomUUID().slice(0, 8)}`;
  try {
    await bus.ensureTopics([{ ...TOPICS.controlCommands, name: topic, partitions: 1 }]);
    let resolveNext: ((t: number) => void) | undefined;
    const sub = await bus.subscribe({ topics: [topic], group: `bench-${topic}` }, async () => {
      resolveNext?.(performance.now());
    });
    const samples: number[] = [];
    for (let i = 0; i < n + 30; i++) {
      const got = new Promise<number>((r) => (resolveNext = r));
      const t0 = performance.now();
      await bus.publish(topic, [{ key: "mev", value: new Uint8Array([i & 255]) }]);
      const t1 = await got;
      if (i >= 30) samples.push(t1 - t0);
    }
    await sub.close();
    return summarize(samples);
  } finally {
    await bus.close();
  }
}

async function withStack<T>(start: () => Promise<Stack>, fn: (s: Stack) => Promise<T>): Promise<T> {
  const stack = await start();
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const nIdx = args.indexOf("--n");
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 1000;
  if (!Number.isInteger(n) || n < 10) throw new Error("--n must be an integer >= 10");
  // As many kill-alls as commands: a p99 of 100 samples is little more than their second largest.
  const killAlls = n;
  const onlyIdx = args.indexOf("--only");
  const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;
  if (only !== undefined && only !== "local" && only !== "kafka") throw new Error("--only must be local or kafka");
  const say = (line: string) => void (json || process.stderr.write(line + "\n"));

  let local: (Awaited<ReturnType<typeof measure>> & { floor_ms: Pct; floor_cpu_per_command_ms: unknown }) | undefined;
  if (only !== "kafka") {
    say(`local bus: ${n} sequential, ${n} concurrent, ${killAlls} kill-all…`);
    const viaLocal = await withStack(
      () => embeddedStack({ rate: 0, agentsPerModule: 2 }),
      (s) => measure(s, n, killAlls),
    );
    say(`local floor: the same processes and messages without mevlab…`);
    const floor = await localFloor(n, WARMUP_MS);
    local = { ...viaLocal, floor_ms: summarize(floor.samples), floor_cpu_per_command_ms: floor.cpuPerCommandMs };
  }
  let kafka: (Awaited<ReturnType<typeof measure>> & { raw_hop_ms: Pct }) | undefined;
  if (only !== "local") {
    const broker = await startKafka();
    try {
      say(`Kafka: through the control plane, then the raw hop on the same broker…`);
      kafka = await withStack(
        () => kafkaStack({ rate: 0, kafka: broker, agentsPerModule: 2 }),
        async (s) => {
          const viaKafka = await measure(s, n, killAlls);
          return { ...viaKafka, raw_hop_ms: await rawHop(broker, n) };
        },
      );
    } finally {
      await broker.stop();
    }
  }
  const result = {
    bench: "control",
    kafka,
    local,
    warmup_ms: WARMUP_MS,
    warmup_commands_min: WARMUP_COMMANDS,
    targets: {
      kafka_rtt_p99_ms: 25,
      kafka_rtt_p50_vs_two_raw_hops: kafka ? round(kafka.rtt_ms.p50 / (2 * kafka.raw_hop_ms.p50)) : undefined,
      local_rtt_p50_ms: 1,
      local_rtt_p99_ms: 5,
      local_rtt_p50_vs_floor: local ? round(local.rtt_ms.p50 / local.floor_ms.p50) : undefined,
      kill_all_p99_ms: 30,
    },
  };
  process.stdout.write(JSON.stringify(result, null, json ? undefined : 2) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:control failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
