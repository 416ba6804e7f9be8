import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalBus, type BatchHandler, type RecordHandler, type SubscribeOptions } from "@mevlab/kernel-helpers";
import { TOPICS } from "@mevlab/proto";
import { Agent } from "../src";
import { TRUST, AGENT_KEY } from "./keys";
import { waitFor, waitUntil } from "./wait";

/** A local bus whose deliveries can be cut, as when the agent stops hearing the broker. */
class DeafBus extends LocalBus {
  deaf = false;
  override subscribe(options: SubscribeOptions, handler: RecordHandler) {
    return super.subscribe(options, async (r) => (this.deaf ? undefined : handler(r)));
  }
  override subscribeBatches(options: SubscribeOptions, handler: BatchHandler) {
    return super.subscribeBatches(options, async (rs) => (this.deaf ? undefined : handler(rs)));
  }
}

test("--bus-silence-stop: an agent that stops hearing the bus stops new work, and resumes when it hears it again", async () => {
  const bus = new DeafBus();
  let opportunities = 0;
  await bus.subscribe({ topics: [TOPICS.mevOpportunities.name], group: "count" }, async () => {
    opportunities += 1;
  });
  const agent = new Agent({
    module: "mev",
    agentId: "mev-1",
    trust: TRUST,
    agentKey: AGENT_KEY,
    bus,
    rate: 50,
    busSilenceStopMs: 1_500,
    log: () => undefined,
  });
  // The agent's own verdict on the bus (private): false once it has not heard its heartbeat for 1.5 s.
  const hearsBus = () => (agent as unknown as { busHeard(): boolean }).busHeard();
  const published = async () => (await bus.snapshot(TOPICS.mevOpportunities.name)).length;
  try {
    await agent.start();
    await waitUntil(() => opportunities > 10, 30_000);
    assert.ok(opportunities > 10, `working while the bus is heard (${opportunities})`);
    // The counter above goes deaf too, so count what the agent publishes from here on directly.
    bus.deaf = true;
    await waitFor("the agent to notice the silence", () => !hearsBus(), 30_000);
    // Every tick from now on sees the silence; one already past its check may still be publishing.
    await new Promise((r) => setImmediate(r));
    const before = await published();
    // A negative check: nothing may be published during a window longer than several ticks (100 ms).
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(await published(), before, "no new work while deaf");
    bus.deaf = false;
    await waitUntil(async () => (await published()) > before, 30_000);
    assert.ok((await published()) > before, "work resumes");
  } finally {
    await agent.stop();
    await bus.close();
  }
});
