// One reference agent for bench:promote, as `mevlab agent` runs it (same arguments), that also answers
// its parent with what it measured: each opportunity's single-row scoring time and the longest delay
// of its opportunity ticks since the last answer.
import { runAgent } from "@mevlab/cli";

async function main(): Promise<void> {
  const agent = await runAgent(process.argv.slice(2));
  process.on("message", (msg: { type: string }) => {
    if (msg.type === "take") process.send?.({ type: "taken", ...agent.trader.take(), modelId: agent.runtime.modelId });
  });
  process.send?.({ type: "ready" });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
