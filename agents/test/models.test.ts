// Agents run promoted models: real models from the project's trainer, loaded by real onnxruntime in
// the agent's model threads, on the in-process bus. What the agent scores is what onnxruntime gives
// for the row the event carries; a model it cannot run is refused with the reason and changes nothing;
// a shadow candidate is scored beside the live one; a restarted agent runs its model before it trades.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalBus, publishMessages, signPolicy, subscribeMessages } from "@mevlab/kernel-helpers";
import { LoadedModel } from "@mevlab/kernel-helpers/evaluate";
import {
  AckOutcome,
  Action,
  ControlCommandSchema,
  Module,
  PolicySchema,
  TOPICS,
  create,
  type ArbOpportunity,
  type ControlAck,
} from "@mevlab/proto";
import { Agent, dirModelSource, featureValues, heuristicPLand } from "../src";
import { AGENT_KEY, TEST_KEY, TRUST, signed } from "./keys";
import { syntheticArrow, trainModel } from "./trained";
import { waitFor } from "./wait";

const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** A protobuf ModelProto with only the feature-name metadata: readable, but no graph for onnxruntime. */
function graphless(): Buffer {
  const field = (tag: number, bytes: Buffer) => Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
  const entry = Buffer.concat([
    field(0x0a, Buffer.from("mevlab.feature_names")),
    field(0x12, Buffer.from('["f_hotpath_us"]')),
  ]);
  return field(0x72, entry); // field 14 (metadata_props), length-delimited
}

function policyCommand(
  requestId: string,
  version: bigint,
  modelId: string,
  shadow?: { modelId: string; evMin: number },
) {
  const policy = create(PolicySchema, {
    schemaVersion: 1,
    module: Module.arbitrage,
    version,
    evMin: 0.0005,
    tipLadder: [0.5, 0.7, 0.85, 0.95],
    modelId,
    shadow,
    author: "test",
  });
  return signed(
    create(ControlCommandSchema, {
      schemaVersion: 1,
      module: Module.arbitrage,
      action: Action.policy,
      args: { policy: signPolicy(policy, TEST_KEY) },
      requestId,
      ts: BigInt(Date.now()),
      notAfter: BigInt(Date.now() + 120_000),
    }),
  );
}

/** The default feature row of an event, as the trainer's columns hold it. */
function row(o: ArbOpportunity): number[] {
  const f = o.features!;
  return [
    f.tipRatioP75,
    f.hotpathUs,
    f.competingBundles,
    Number(f.poolLiquidityLamports),
    f.routeHops,
    f.leaderSlotIndex,
  ];
}

test("agents score with the promoted model, refuse models they cannot run, shadow a candidate, and recover the model at restart", async () => {
  const out = mkdtempSync(join(tmpdir(), "mevlab-agent-store-"));
  const arrow = syntheticArrow(4_000, 5);
  const a = trainModel(arrow, out, { trees: 20 });
  const b = trainModel(arrow, out, { model: "lgbm", trees: 20 });
  const byo = trainModel(arrow, out, { features: "net_sol,f_hotpath_us" });
  const garbage = randomBytes(4_096);
  const hollow = graphless();
  for (const bytes of [garbage, hollow]) {
    mkdirSync(join(out, sha(bytes)));
    writeFileSync(join(out, sha(bytes), "model.onnx"), bytes);
  }
  const forgedId = sha("not the bytes stored under this id");
  mkdirSync(join(out, forgedId));
  writeFileSync(join(out, forgedId, "model.onnx"), readFileSync(join(a.dir, "model.onnx")));

  const bus = new LocalBus();
  const stateFile = join(mkdtempSync(join(tmpdir(), "mevlab-agent-state-")), "arb-m.json");
  const start = async () => {
    const agent = new Agent({
      module: "arbitrage",
      agentId: "arb-m",
      trust: TRUST,
      agentKey: AGENT_KEY,
      bus,
      rate: 300,
      seed: 3,
      stateFile,
      models: dirModelSource(out),
      log: () => undefined,
    });
    await agent.start();
    return agent;
  };
  const acks: ControlAck[] = [];
  const opps: ArbOpportunity[] = [];
  await subscribeMessages(bus, TOPICS.controlAcks, { group: "t-acks" }, (m) => void acks.push(m));
  await subscribeMessages(bus, TOPICS.arbOpportunities, { group: "t-opps" }, (m) => void opps.push(m));
  const send = async (cmd: ReturnType<typeof policyCommand>): Promise<ControlAck> => {
    await publishMessages(bus, TOPICS.controlCommands, [{ key: "arbitrage", message: cmd }]);
    await waitFor(`ack of ${cmd.requestId}`, () => acks.some((x) => x.requestId === cmd.requestId), 60_000);
    return acks.find((x) => x.requestId === cmd.requestId)!;
  };
  /** The next `n` opportunities published from now on. */
  const next = async (n: number): Promise<ArbOpportunity[]> => {
    const from = opps.length;
    await waitFor(`${n} opportunities`, () => opps.length >= from + n, 20_000);
    return opps.slice(from, from + n);
  };

  let agent = await start();
  try {
    for (const o of await next(20)) {
      assert.equal(o.decisionMeta!.modelId, "");
      assert.equal(o.decisionMeta!.pLandEst, heuristicPLand(featureValues(o.features!)));
    }

    const v1 = await send(policyCommand("p-1", 1n, a.id));
    assert.deepEqual([AckOutcome[v1.outcome], v1.modelId, v1.reason], ["applied", a.id, ""]);
    await next(30); // batches drawn before the swap
    const live = await next(60);
    const reference = await LoadedModel.load(join(a.dir, "model.onnx"));
    const p = await reference.predict(new Float32Array(live.flatMap(row)), live.length);
    await reference.close();
    live.forEach((o, i) => {
      assert.equal(o.decisionMeta!.modelId, a.id);
      assert.ok(
        Math.abs(o.decisionMeta!.pLandEst - p[i]) < 1e-6,
        `opportunity ${i}: ${o.decisionMeta!.pLandEst} vs ${p[i]}`,
      );
      assert.equal(o.decisionMeta!.accepted, o.profit!.netSol * o.decisionMeta!.pLandEst >= 0.0005);
    });
    assert.ok(live.some((o) => Math.abs(o.decisionMeta!.pLandEst - heuristicPLand(featureValues(o.features!))) > 0.05));

    const refusals: [string, string, RegExp][] = [
      ["p-byo", byo.id, /do not compute net_sol/],
      ["p-garbage", sha(garbage), /not an ONNX file/],
      ["p-hollow", sha(hollow), /onnxruntime refused it/],
      ["p-forged", forgedId, /bytes hash to [0-9a-f]{12}, not its id/],
      ["p-unknown", sha("no such model"), /is not in /],
    ];
    for (const [id, modelId, reason] of refusals) {
      const ack = await send(policyCommand(id, 2n, modelId));
      assert.equal(AckOutcome[ack.outcome], "rejected", id);
      assert.match(ack.reason, reason);
      assert.equal(ack.modelId, a.id, `${id}: the agent still runs the live model`);
      assert.equal(agent.runtime.policyVersion, 1n);
    }
    for (const o of await next(30)) assert.equal(o.decisionMeta!.modelId, a.id);

    const v2 = await send(policyCommand("p-2", 2n, a.id, { modelId: b.id, evMin: 0.001 }));
    assert.equal(AckOutcome[v2.outcome], "applied");
    await next(30);
    for (const o of await next(30)) {
      const d = o.decisionMeta!;
      assert.deepEqual([d.modelId, d.shadowModelId], [a.id, b.id]);
      assert.ok(d.shadowPLandEst > 0 && d.shadowPLandEst < 1);
      assert.equal(d.shadowAccepted, o.profit!.netSol * d.shadowPLandEst >= 0.001);
    }
    assert.ok(agent.models.shadow?.id === b.id);

    const v3 = await send(policyCommand("p-3", 3n, b.id));
    assert.deepEqual([AckOutcome[v3.outcome], v3.modelId], ["applied", b.id]);
    await next(30);
    for (const o of await next(30))
      assert.deepEqual([o.decisionMeta!.modelId, o.decisionMeta!.shadowModelId], [b.id, ""]);

    await agent.stop();
    const from = opps.length;
    agent = await start();
    await waitFor("the restarted agent's opportunities", () => opps.length >= from + 20);
    for (const o of opps.slice(from, from + 20))
      assert.equal(o.decisionMeta!.modelId, b.id, "before it traded, the model was running");
  } finally {
    await agent.stop();
    await bus.close();
  }
});
