// Fault tests against a real Kafka broker: the broker, an agent and the control plane each die in
// turn, and no acknowledged command is lost or applied twice. Counts come from inside the agents
// (their heartbeats carry how many commands they applied).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  BusError,
  ControlPlaneClient,
  KafkaBus,
  RealtimeConnection,
  ResponseError,
  nodeTransport,
  publishMessages,
  type AgentView,
} from "@mevlab/kernel-helpers";
import { ControlRequest_State as State, Format, Stream, TOPICS, decode, type ControlCommand } from "@mevlab/proto";
import { freePort, startKafka, type KafkaBroker } from "@mevlab/cli";
import { AssignerProtocol, Kafka, logLevel } from "kafkajs";
import { CLI, agentCredential, mevlab, startProcess, stopProcess, waitFor } from "../src/stack";
import type { ChildProcess } from "node:child_process";

const ADMIN = { username: "admin", password: "admin-password-1" };
let kafka: KafkaBroker;
let dataDir: string;
let port: number;
let env: NodeJS.ProcessEnv;
let cp: ChildProcess | undefined;
const agents = new Map<string, ChildProcess>();

async function startControlPlane(): Promise<void> {
  cp = (
    await startProcess(
      ["control-plane", "--port", String(port), "--data-dir", dataDir],
      env,
      /^control plane listening/,
    )
  ).child;
}

async function startAgent(id: string, module: "arbitrage" | "mev" = "mev"): Promise<void> {
  agentCredential(dataDir, module, id);
  const p = await startProcess(
    ["agent", "--module", module, "--agent-id", id, "--rate", "0", "--data-dir", dataDir],
    env,
    /^agent .* ready/,
    90_000,
  );
  agents.set(id, p.child);
}

/** SIGKILL, then the exit: a restart before it could find the old process's lock or port held. */
async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/** Starts the agent unless it is running: a test that failed must not leave the next without it. */
async function ensureAgent(id: string): Promise<void> {
  const child = agents.get(id);
  if (child && child.exitCode === null && child.signalCode === null) return;
  await startAgent(id);
}

async function login(): Promise<ControlPlaneClient> {
  return ControlPlaneClient.login({ url: `http://127.0.0.1:${port}`, ...ADMIN, transport: nodeTransport });
}

async function agentView(client: ControlPlaneClient, id: string): Promise<AgentView | undefined> {
  return (await client.agents()).agents.find((a) => a.agent_id === id);
}

before(async () => {
  kafka = await startKafka();
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-faults-"));
  port = await freePort();
  env = {
    KAFKA_BROKERS: kafka.brokers,
    MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}`,
    // Commands issued while the broker is down must still be applicable when it is back.
    MEVLAB_COMMAND_TTL_MS: "120000",
    MEVLAB_REQUEST_TIMEOUT_MS: "60000",
  };
  mevlab(["user", "add", "viewer", "--role", "viewer", "--data-dir", dataDir], { MEVLAB_PASSWORD: "viewer-password" });
  await startControlPlane();
  await startAgent("mev-1");
});

after(async () => {
  for (const a of agents.values()) await stopProcess(a);
  if (cp) await stopProcess(cp);
  await kafka?.stop();
});

test("broker killed and restarted in a burst of 1,000 commands: 0 acknowledged lost, 0 applied twice", async () => {
  const client = await login();
  try {
    await waitFor("mev-1 heartbeat", () => agentView(client, "mev-1"), 30_000);
    const base = BigInt((await agentView(client, "mev-1"))!.commands_applied);
    const accepted: string[] = [];
    let refused = 0;
    let sent = 0;
    let brokerBack = 0;
    let restarted: Promise<void> | undefined;
    const total = 1000;
    const worker = async (): Promise<void> => {
      while (sent < total) {
        const i = sent++;
        if (i === 300) {
          await kafka.kill();
          restarted = new Promise((r) => setTimeout(r, 1_000))
            .then(() => kafka.restart())
            .then(() => void (brokerBack = Date.now()));
        }
        try {
          accepted.push((await client.control("mev", "throttle", { throttle_pct: i % 101 })).request_id);
        } catch (err) {
          if (!(err instanceof ResponseError && err.status === 503)) throw err;
          refused += 1;
        }
      }
    };
    // Awaited even when a worker fails: the tests after this one need the broker.
    const results = await Promise.allSettled(Array.from({ length: 8 }, worker));
    await restarted;
    for (const r of results) if (r.status === "rejected") throw r.reason;
    const expected = base + BigInt(accepted.length);
    const applied = await waitFor(
      `mev-1 to apply all ${accepted.length} acknowledged commands`,
      async () => {
        const a = await agentView(client, "mev-1");
        return a && BigInt(a.commands_applied) >= expected ? BigInt(a.commands_applied) : undefined;
      },
      120_000,
    );
    const recovered = Date.now() - brokerBack;
    await new Promise((r) => setTimeout(r, 2_000));
    const final = BigInt((await agentView(client, "mev-1"))!.commands_applied);
    process.stdout.write(
      `# broker fault: sent ${total}, acknowledged ${accepted.length}, refused ${refused}, applied ${final - base}; ` +
        `all applied ${recovered} ms after the broker answered again\n`,
    );
    assert.ok(accepted.length > 0);
    assert.equal(applied, expected, "every acknowledged command applied");
    assert.equal(final, expected, "no command applied twice");
  } finally {
    await client.close();
  }
});

test("agent killed and restarted: it recovers policy and dedupe window; replays are answered duplicate", async () => {
  const client = await login();
  try {
    const promoted = await client.updatePolicy({ module: "mev", ev_min: 0.003, reason: "fault test" });
    assert.equal(promoted.request.state, State.applied, promoted.request.reason);
    const cmds: ControlCommand[] = [];
    for (const pct of [11, 12, 13]) {
      const r = await client.command("mev", "throttle", { throttle_pct: pct });
      assert.equal(r.request.state, State.applied);
    }
    // Read back the commands just sent, to replay them byte for byte.
    const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "fault-test", topics: [] });
    try {
      const all = await bus.snapshot(TOPICS.controlCommands.name);
      cmds.push(...all.slice(-3).map((r) => decode(TOPICS.controlCommands.schema, r.value)));
      const killedRun = (await agentView(client, "mev-1"))!.boot_id;
      await killAndWait(agents.get("mev-1")!);
      await startAgent("mev-1");
      // The restarted run's own heartbeat: until it comes, the view is the killed run's last one, with
      // the state of the acks after it but a count from before them.
      const back = await waitFor(
        "mev-1's restarted run back with the promoted policy",
        async () => {
          const a = await agentView(client, "mev-1");
          return a && a.boot_id !== killedRun && a.policy_version === String(promoted.version) && a.throttle_pct === 13
            ? a
            : undefined;
        },
        60_000,
      );
      const applied = BigInt(back.commands_applied);
      // Acks on their own realtime connection: the client's shared one carries final request records.
      const acksWs = await RealtimeConnection.open(client.url, client.token, nodeTransport.webSocket, {
        streams: [Stream.control_ack],
        format: Format.protobuf,
      });
      const ackOutcomes = await new Promise<string[]>((resolve, reject) => {
        const seen: string[] = [];
        const timer = setTimeout(
          () => reject(new Error(`replays answered ${seen.length} of ${cmds.length} within 30 s`)),
          30_000,
        );
        const stop = acksWs.listen({
          onEvents: (evs) => {
            for (const e of evs) {
              if (e.payload.case !== "controlAck") continue;
              const ack = e.payload.value;
              if (!cmds.some((c) => c.requestId === ack.requestId)) continue;
              seen.push(String(ack.outcome));
              if (seen.length === cmds.length) {
                clearTimeout(timer);
                stop();
                resolve(seen);
              }
            }
          },
        });
        void publishMessages(
          bus,
          TOPICS.controlCommands,
          cmds.map((c) => ({ key: "mev", message: c })),
        );
      });
      acksWs.close();
      assert.deepEqual(ackOutcomes, ["2", "2", "2"], "every replay answered duplicate (AckOutcome.duplicate = 2)");
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(BigInt((await agentView(client, "mev-1"))!.commands_applied), applied, "replays not applied");
      // A second agent with the same id on the same data directory would share the journal and take
      // over the running one's consumer group: it is refused before it touches the bus.
      const twin = spawnSync(
        process.execPath,
        [CLI, "agent", "--module", "mev", "--agent-id", "mev-1", "--rate", "0", "--data-dir", dataDir],
        { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 },
      );
      assert.equal(twin.status, 1, `the second mev-1 exited ${twin.status}: ${twin.stderr}`);
      assert.match(twin.stderr, new RegExp(`in use by process ${agents.get("mev-1")!.pid}: an agent with this id`));
      const next = await client.command("mev", "throttle", { throttle_pct: 14 });
      assert.equal(next.request.state, State.applied, "the running mev-1 still hears its commands");
      assert.deepEqual(
        next.request.outcomes.map((o) => o.agentId),
        ["mev-1"],
      );
    } finally {
      await bus.close();
    }
    // A brand-new agent with no state of its own learns the policy from the compacted topic.
    await startAgent("mev-2");
    try {
      await waitFor(
        "mev-2 running the promoted policy",
        async () => {
          const a = await agentView(client, "mev-2");
          return a && a.policy_version === String(promoted.version) ? a : undefined;
        },
        60_000,
      );
    } finally {
      await killAndWait(agents.get("mev-2")!);
      agents.delete("mev-2");
    }
  } finally {
    await client.close();
  }
});

test("control plane restarted: a request pending at the time is resolved from the acks", async () => {
  await ensureAgent("mev-1");
  let client = await login();
  const agent = agents.get("mev-1")!;
  // The request must expect mev-1 alone: whatever agents an earlier test left, wait until no other
  // mev agent is live.
  await waitFor(
    "mev-1 the only live mev agent",
    async () => {
      const live = (await client.agents()).agents.filter((a) => a.module === "mev" && !a.stale);
      return live.length === 1 && live[0].agent_id === "mev-1" ? true : undefined;
    },
    30_000,
  );
  agent.kill("SIGSTOP");
  let requestId = "";
  try {
    requestId = (await client.control("mev", "throttle", { throttle_pct: 42 })).request_id;
    assert.equal((await client.request(requestId)).state, State.pending);
    await killAndWait(cp!);
  } finally {
    agent.kill("SIGCONT");
    await client.close();
  }
  await startControlPlane();
  client = await login();
  try {
    const request = await waitFor(
      "the pending request to be resolved",
      async () => {
        const r = await client.request(requestId);
        return r.state !== State.pending ? r : undefined;
      },
      60_000,
    );
    assert.equal(request.state, State.applied, request.reason);
    assert.equal(request.outcomes[0].agentId, "mev-1");
  } finally {
    await client.close();
  }
});

test("a keyed subscription is assigned only its key's partition of control-commands and gets only its records", async () => {
  const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "keys-test", topics: [] });
  const admin = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  const group = `keys-test-${Date.now()}`;
  await admin.connect();
  const got: string[] = [];
  try {
    await bus.ensureTopics([TOPICS.controlCommands]);
    const sub = await bus.subscribe({ topics: [TOPICS.controlCommands.name], group, keys: ["mev"] }, async (r) => {
      got.push(r.key);
    });
    const { groups } = await admin.describeGroups([group]);
    const assigned = groups[0].members.map(
      (m) => AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {},
    );
    const partitions = await admin.fetchTopicMetadata({ topics: [TOPICS.controlCommands.name] });
    assert.equal(partitions.topics[0].partitions.length, 2, "control-commands has a partition per module key");
    // The producer's partitioner puts "mev" on partition 1 and "arbitrage" on 0 (murmur2, as Java does).
    assert.deepEqual(assigned, [{ [TOPICS.controlCommands.name]: [1] }]);
    await bus.publish(TOPICS.controlCommands.name, [
      { key: "arbitrage", value: new Uint8Array([1]) },
      { key: "mev", value: new Uint8Array([2]) },
      { key: "arbitrage", value: new Uint8Array([3]) },
      { key: "mev", value: new Uint8Array([4]) },
    ]);
    await waitFor("2 mev records", async () => (got.length >= 2 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got, ["mev", "mev"]);
    await sub.close();
  } finally {
    await admin.disconnect();
    await bus.close();
  }
});

test("a group that has not committed yet resumes where it started, not at the latest record", async () => {
  // kafkajs starts a group without a committed offset at the end of the topic, and looks that end up
  // again when the consumer rejoins (after a broker restart): records published in between were
  // skipped, and the broker fault test above lost acknowledged commands (in 4 of 18 runs).
  const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "start-test", topics: [] });
  const topic = `start-test-${Date.now()}`;
  const group = `${topic}-group`;
  try {
    await bus.ensureTopics([{ ...TOPICS.controlCommands, name: topic, partitions: 1 }]);
    await bus.publish(topic, [{ key: "mev", value: new Uint8Array([0]) }]);
    const first = await bus.subscribe({ topics: [topic], group }, async () => undefined);
    // Leaves before it handled (or committed) anything; the record published before it started is
    // not for it.
    await first.close();
    await bus.publish(
      topic,
      [1, 2, 3].map((i) => ({ key: "mev", value: new Uint8Array([i]) })),
    );
    const got: number[] = [];
    const again = await bus.subscribe({ topics: [topic], group }, async (r) => {
      got.push(r.value[0]);
    });
    await waitFor(
      "the 3 records published while the group was away",
      async () => (got.length >= 3 ? true : undefined),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(got, [1, 2, 3]);
    await again.close();
  } finally {
    await bus.close();
  }
});

test("an exclusive subscription takes over from a crashed run of the same client without waiting out its session", async () => {
  // A process killed with SIGKILL stays a member of its groups until its session times out (10 s),
  // and the group takes in no new member before that: a restarted agent could not hear a kill for
  // 10 s. An exclusive subscription removes what an earlier run of the same client id left behind,
  // and only that: a live member of another client stays.
  const topic = `exclusive-test-${Date.now()}`;
  const group = `${topic}-group`;
  const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "exclusive-test", topics: [] });
  const other = new KafkaBus({ brokers: [kafka.brokers], clientId: "exclusive-other", topics: [] });
  const admin = new Kafka({ brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const members = async () => (await admin.describeGroups([group])).groups[0].members;
  try {
    await bus.ensureTopics([{ ...TOPICS.controlCommands, name: topic, partitions: 2 }]);
    // A live member of another client, there before the crash; it must stay.
    const otherSub = await other.subscribe({ topics: [topic], group }, async () => undefined);
    const helpers = require.resolve("@mevlab/kernel-helpers");
    const crashed = spawn(
      process.execPath,
      [
        "-e",
        `const { KafkaBus } = require(${JSON.stringify(helpers)});
         const bus = new KafkaBus({ brokers: [${JSON.stringify(kafka.brokers)}], clientId: "exclusive-test", topics: [] });
         bus.subscribe({ topics: [${JSON.stringify(topic)}], group: ${JSON.stringify(group)}, exclusive: true }, async () => {})
           .then(() => console.log("joined"));`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the first run did not join within 60 s")), 60_000);
      crashed.once("exit", (code) => reject(new Error(`the first run exited (${code}) before joining`)));
      createInterface({ input: crashed.stdout! }).on("line", (line) => {
        if (line !== "joined") return;
        clearTimeout(timer);
        resolve();
      });
    }).catch(async (err: unknown) => {
      await killAndWait(crashed);
      throw err;
    });
    crashed.removeAllListeners("exit");
    await killAndWait(crashed);
    const before = await members();
    const killed = before.filter((m) => m.clientId === "exclusive-test");
    assert.equal(before.length, 2);
    assert.equal(killed.length, 1, "the killed run is still a member");
    const got: number[] = [];
    const t0 = Date.now();
    const sub = await bus.subscribe({ topics: [topic], group, exclusive: true }, async (r) => {
      got.push(r.value[0]);
    });
    const joinedMs = Date.now() - t0;
    const now = await members();
    assert.ok(
      joinedMs < 6_000,
      `joined ${joinedMs} ms after the crash, under the 10 s session it would otherwise wait out`,
    );
    assert.equal(now.length, 2);
    assert.ok(!now.some((m) => m.memberId === killed[0].memberId), "the killed run's member is gone");
    assert.ok(
      now.some((m) => before.some((b) => b.clientId === "exclusive-other" && b.memberId === m.memberId)),
      "the other client's member is the same one",
    );
    assert.deepEqual(now.map((m) => m.clientId).sort(), ["exclusive-other", "exclusive-test"]);
    // Once the other member has left, the new one is assigned both partitions and gets every record.
    await otherSub.close();
    await bus.publish(
      topic,
      [1, 2, 3, 4].map((i) => ({ key: `k${i}`, value: new Uint8Array([i]) })),
    );
    // At least once: a record handled just before the rebalance may come again after it.
    await waitFor("the 4 records", async () => (new Set(got).size >= 4 ? true : undefined), 30_000);
    assert.deepEqual([...new Set(got)].sort(), [1, 2, 3, 4]);
    await sub.close();
  } finally {
    await admin.disconnect();
    await other.close();
    await bus.close();
  }
});

test("a subscription whose handler fails with an error kafkajs does not retry is started again, not left quiet", async () => {
  // kafkajs restarts a consumer after a retriable error only: after any other (a TypeError in a
  // handler, a publish the broker refused for good) its consumer stopped for good, without a word to
  // the bus: an agent would have kept heartbeating and never heard a kill again.
  const bus = new KafkaBus({ brokers: [kafka.brokers], clientId: "crash-test", topics: [], log: () => undefined });
  const topic = `crash-test-${Date.now()}`;
  const group = `${topic}-group`;
  try {
    await bus.ensureTopics([{ ...TOPICS.controlCommands, name: topic, partitions: 1 }]);
    const failures = [
      new TypeError("a bug in the handler"),
      new BusError("publish refused", { retriable: false, topic }),
    ];
    const got: number[] = [];
    const sub = await bus.subscribe({ topics: [topic], group }, async (r) => {
      const failure = failures.shift();
      if (failure) throw failure;
      got.push(r.value[0]);
    });
    const t0 = Date.now();
    await bus.publish(topic, [{ key: "mev", value: new Uint8Array([1]) }]);
    await waitFor("record 1 after two failed attempts", async () => (got.includes(1) ? true : undefined), 30_000);
    const recoveredMs = Date.now() - t0;
    await bus.publish(topic, [{ key: "mev", value: new Uint8Array([2]) }]);
    await waitFor("record 2", async () => (got.includes(2) ? true : undefined), 30_000);
    // Nothing skipped: the record whose handling failed is delivered again, and then the next one.
    assert.deepEqual(got, [1, 2]);
    assert.equal(failures.length, 0);
    assert.ok(recoveredMs < 10_000, `record 1 handled ${recoveredMs} ms after it was published`);
    process.stdout.write(`# handler failures: record 1 handled ${recoveredMs} ms after it was published\n`);
    await sub.close();
  } finally {
    await bus.close();
  }
});
