// A rogue on Kafka: the broker takes SASL/SCRAM only, and the rogue holds a broker login (anyone who
// reaches the broker with one can publish anything). It replays the attacks of the security review on
// the topics themselves: forged commands and a forged policy are refused by the agents (signatures),
// a forged ack and ghost heartbeats by the control plane (agent_mac), each counted; the real agents are
// unaffected and the admin's next command and policy are applied. A client without a login is refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import {
  ControlPlaneClient,
  KafkaBus,
  nodeTransport,
  publishMessages,
  subscribeMessages,
  type KafkaSecurity,
} from "@mevlab/kernel-helpers";
import {
  AckOutcome,
  Action,
  AgentState,
  AgentStatusSchema,
  ControlAckSchema,
  ControlCommandSchema,
  ControlRequest_State as State,
  Module,
  PolicySchema,
  TOPICS,
  create,
  type ControlAck,
} from "@mevlab/proto";
import { freePort, startKafka, type KafkaBroker } from "@mevlab/cli";
import { agentCredential, startProcess, stopProcess, waitFor, waitForAgents } from "../src/stack";

const ADMIN = { username: "admin", password: "admin-password-1" };
const SCRAM = { username: "mevlab", password: "scram-password-1" };
const security: KafkaSecurity = { sasl: { mechanism: "scram-sha-256", ...SCRAM } };
let kafka: KafkaBroker;
let url: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
const agents = new Map<string, ChildProcess>();
let cp: ChildProcess;
let client: ControlPlaneClient;
let rogue: KafkaBus;

async function startAgent(module: "arbitrage" | "mev", id: string): Promise<void> {
  agentCredential(dataDir, module, id);
  const args = ["agent", "--module", module, "--agent-id", id, "--rate", "0", "--data-dir", dataDir];
  agents.set(id, (await startProcess(args, env, /^agent .* ready/, 90_000)).child);
}

before(async () => {
  kafka = await startKafka({ scram: SCRAM });
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-rogue-kafka-"));
  env = {
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_SASL_MECHANISM: "scram-sha-256",
    KAFKA_SASL_USERNAME: SCRAM.username,
    KAFKA_SASL_PASSWORD: SCRAM.password,
    MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}`,
  };
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  cp = (await startProcess(["control-plane", "--port", String(port), "--data-dir", dataDir], env, /listening/)).child;
  await startAgent("mev", "mev-1");
  await startAgent("arbitrage", "arbitrage-1");
  client = await ControlPlaneClient.login({ url, ...ADMIN, transport: nodeTransport });
  await waitForAgents(client);
  rogue = new KafkaBus({ brokers: [kafka.brokers], clientId: "rogue", topics: [], security, log: () => undefined });
});

after(async () => {
  await rogue?.close();
  await client?.close();
  for (const child of agents.values()) await stopProcess(child);
  if (cp) await stopProcess(cp);
  await kafka?.stop();
});

async function skipped(topic: string, reason: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${client.token}` } });
  const line = (await res.text())
    .split("\n")
    .find((l) => l.startsWith(`mevlab_records_skipped_total{topic="${topic}",reason="${reason}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

test("a client without a broker login is refused", async () => {
  const anonymous = new KafkaBus({ brokers: [kafka.brokers], clientId: "anonymous", topics: [], log: () => undefined });
  try {
    await assert.rejects(() =>
      anonymous.publish(TOPICS.controlCommands.name, [{ key: "mev", value: new Uint8Array(1) }]),
    );
  } finally {
    await anonymous.close();
  }
});

test("forged commands, policy, ack and heartbeats on Kafka are refused and counted; the admin is obeyed", async () => {
  const acks: ControlAck[] = [];
  const sub = await subscribeMessages(rogue, TOPICS.controlAcks, { group: "rogue-reader" }, (a) => void acks.push(a));
  try {
    const now = BigInt(Date.now());
    const command = (requestId: string, action: Action, notAfter: bigint) =>
      create(ControlCommandSchema, {
        schemaVersion: 1,
        ts: now,
        module: Module.mev,
        action,
        requestId,
        issuer: "admin",
        notAfter,
      });
    await publishMessages(rogue, TOPICS.controlCommands, [
      { key: "mev", message: command("forged-stop", Action.stop, 0n) },
      { key: "mev", message: command("forged-kill", Action.kill, now + 60_000n) },
    ]);
    await publishMessages(rogue, TOPICS.policies, [
      {
        key: "mev",
        message: create(PolicySchema, { schemaVersion: 1, module: Module.mev, version: 2n ** 62n, kill: true }),
      },
    ]);
    const ghost = (agentId: string) =>
      create(AgentStatusSchema, {
        schemaVersion: 1,
        ts: BigInt(Date.now()),
        agentId,
        module: Module.mev,
        state: AgentState.running,
      });
    await publishMessages(rogue, TOPICS.agentStatus, [
      { key: "ghost-1", message: ghost("ghost-1") },
      { key: "ghost-2", message: ghost("ghost-2") },
    ]);
    await publishMessages(rogue, TOPICS.controlAcks, [
      {
        key: "mev",
        message: create(ControlAckSchema, {
          schemaVersion: 1,
          module: Module.mev,
          requestId: "any",
          agentId: "mev-1",
          outcome: AckOutcome.applied,
        }),
      },
    ]);

    await waitFor(
      "mev-1's answers to the forged commands",
      () => acks.filter((a) => a.requestId.startsWith("forged-")).length === 2 || undefined,
    );
    const answers = Object.fromEntries(
      acks.filter((a) => a.agentId === "mev-1").map((a) => [a.requestId, [AckOutcome[a.outcome], a.reason]]),
    );
    assert.deepEqual(answers["forged-stop"], ["rejected", "command is not signed"]);
    assert.deepEqual(answers["forged-kill"], ["rejected", "command is not signed"]);
    await waitFor("the forged ack and heartbeats counted", async () =>
      (await skipped(TOPICS.controlAcks.name, "unauthenticated")) >= 1 &&
      (await skipped(TOPICS.agentStatus.name, "unauthenticated")) >= 2
        ? true
        : undefined,
    );
    const ids = (await client.agents()).agents.map((a) => a.agent_id).sort();
    assert.deepEqual(ids, ["arbitrage-1", "mev-1"], "no ghost agents");

    // mev-1 restarts over the forged policy on the compacted topic: it ignores it.
    await stopProcess(agents.get("mev-1")!);
    await startAgent("mev", "mev-1");
    const throttle = await client.command("mev", "throttle", { throttle_pct: 23 });
    assert.equal(State[throttle.request.state], "applied", throttle.request.reason);
    assert.deepEqual(
      throttle.request.outcomes.map((o) => o.agentId),
      ["mev-1"],
    );
    const promoted = await client.updatePolicy({ module: "mev", ev_min: 0.002, reason: "after the rogue" });
    assert.equal(State[promoted.request.state], "applied", promoted.request.reason);
    const mev = (await client.agents()).agents.find((a) => a.agent_id === "mev-1")!;
    assert.notEqual(mev.state, "killed");
    assert.equal(BigInt(mev.policy_version), BigInt(promoted.version), "the real policy, not version 2^62");
  } finally {
    await sub.close();
  }
});
