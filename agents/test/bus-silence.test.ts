import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalBus, type BatchHandler, type RecordHandler, type SubscribeOptions } from "@mevlab/kernel-helpers";
import { TOPICS } from "@mevlab/proto";
import { Agent } from "../src";

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
    bus,
    rate: 50,
    busSilenceStopMs: 1_500,
    log: () => undefined,
  });
  await agent.start();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(1_000);
  assert.ok(opportunities > 10, `working while the bus is heard (${opportunities})`);
  // The counter above goes deaf too, so count what the agent publishes from here on directly.
  bus.deaf = true;
  await sleep(2_000);
  const published = (await bus.snapshot(TOPICS.mevOpportunities.name)).length;
  await sleep(1_000);
  assert.equal((await bus.snapshot(TOPICS.mevOpportunities.name)).length, published, "no new work while deaf");
  bus.deaf = false;
  await sleep(1_500);
  assert.ok((await bus.snapshot(TOPICS.mevOpportunities.name)).length > published, "work resumes");
  await agent.stop();
  await bus.close();
});
