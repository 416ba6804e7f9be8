import { LocalBus, publishMessages } from "@mevlab/kernel-helpers";
import { BundleOutcomeSchema, Module, TOPICS, create, type ArbOpportunity, type MevOpportunity } from "@mevlab/proto";

/**
 * Publishes the opportunities and one bundle outcome per arb opportunity (every other one landed, tip
 * 100,000 + i lamports, module chosen per index), as the sink and data tests need them.
 */
export async function publishOpportunities(
  bus: LocalBus,
  arbs: readonly ArbOpportunity[],
  mevs: readonly MevOpportunity[],
  outcomeModule: (i: number) => Module = () => Module.arbitrage,
): Promise<void> {
  await publishMessages(
    bus,
    TOPICS.arbOpportunities,
    arbs.map((m) => ({ key: m.slot.toString(), message: m })),
  );
  await publishMessages(
    bus,
    TOPICS.mevOpportunities,
    mevs.map((m) => ({ key: m.slot.toString(), message: m })),
  );
  await publishMessages(
    bus,
    TOPICS.bundleOutcomes,
    arbs.map((a, i) => ({
      key: `b-${a.id}`,
      message: create(BundleOutcomeSchema, {
        ts: a.ts,
        bundleId: `b-${a.id}`,
        module: outcomeModule(i),
        agentId: a.agentId,
        opportunityId: a.id,
        landed: i % 2 === 0,
        tipLamports: 100_000n + BigInt(i),
        slot: a.slot,
        latencyMs: 3,
      }),
    })),
  );
}
