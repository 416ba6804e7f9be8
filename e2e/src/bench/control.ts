// POST → ack-on-WS latency of control commands, on the local bus and on a real Kafka broker, side
// by side in one run. `npm run bench:control -- --json [--n 300]` prints one JSON line.
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
import { AckOutcome } from "@mevlab/proto";
import { embeddedStack, kafkaStack, percentile, waitFor, type Stack } from "../stack";

interface Summary {
  rtt_ms: { p50: number; p99: number; mean: number; max: number };
  n: number;
}

async function measure(stack: Stack, n: number): Promise<Summary> {
  const client = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  try {
    await waitFor(
      "the mev agent",
      async () => ((await client.agents()).agents.some((a) => a.agent_id === "mev-1") ? true : undefined),
      30_000,
    );
    const run = async (i: number): Promise<number> => {
      const r = await client.command("mev", "throttle", { throttle_pct: i % 100 });
      if (r.ack.outcome !== AckOutcome.applied)
        throw new Error(`command ${i}: ${AckOutcome[r.ack.outcome]} ${r.ack.reason}`);
      return r.latencyMs;
    };
    for (let i = 0; i < 20; i++) await run(i);
    const samples: number[] = [];
    for (let i = 0; i < n; i++) samples.push(await run(i));
    samples.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      rtt_ms: {
        p50: round(percentile(samples, 50)),
        p99: round(percentile(samples, 99)),
        mean: round(samples.reduce((a, b) => a + b, 0) / n),
        max: round(samples[n - 1]),
      },
      n,
    };
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const nIdx = args.indexOf("--n");
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 300;
  if (!Number.isInteger(n) || n < 10) throw new Error("--n must be an integer >= 10");
  const result: Record<string, Summary> = {};
  for (const [name, start] of [
    ["local", () => embeddedStack({ rate: 0 })],
    ["kafka", () => kafkaStack({ rate: 0 })],
  ] as const) {
    if (!json) process.stderr.write(`bench:control ${name}: ${n} sequential commands…\n`);
    const stack = await start();
    try {
      result[name] = await measure(stack, n);
    } finally {
      await stack.stop();
    }
  }
  if (json) {
    process.stdout.write(JSON.stringify({ bench: "control", ...result }) + "\n");
    return;
  }
  for (const [name, s] of Object.entries(result)) {
    process.stdout.write(
      `${name.padEnd(6)} POST→ack on WS  p50 ${s.rtt_ms.p50.toFixed(2)} ms  p99 ${s.rtt_ms.p99.toFixed(2)} ms  ` +
        `mean ${s.rtt_ms.mean.toFixed(2)} ms  max ${s.rtt_ms.max.toFixed(2)} ms  (n=${s.n})\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:control failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
