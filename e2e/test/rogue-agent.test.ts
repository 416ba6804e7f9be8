// A rogue agent on the bus link: a real credential (minted for agent mev-66 of module mev) replays
// every attack of the security review against a live `mevlab control-plane` with real agents. Each is
// refused and counted; the real agents keep running unchanged; the admin's next command is applied.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import {
  ControlPlaneClient,
  LinkBus,
  messageRecords,
  nodeTransport,
  type Bus,
  type OutgoingRecord,
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
} from "@mevlab/proto";
import { freePort } from "@mevlab/cli";
import { agentCredential, startProcess, stopProcess, waitFor, waitForAgents } from "../src/stack";

const ADMIN = { username: "admin", password: "admin-password-1" };
let dataDir: string;
let url: string;
const children: ChildProcess[] = [];
let client: ControlPlaneClient;
let rogue: Bus;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-rogue-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env = { KAFKA_BROKERS: "", MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}` };
  children.push(
    (await startProcess(["control-plane", "--port", String(port), "--data-dir", dataDir], env, /listening/)).child,
  );
  for (const [module, id] of [
    ["mev", "mev-1"],
    ["arbitrage", "arbitrage-1"],
  ] as const) {
    agentCredential(dataDir, module, id);
    const args = [
      "agent",
      "--module",
      module,
      "--agent-id",
      id,
      "--rate",
      "0",
      "--control-plane",
      url,
      "--data-dir",
      dataDir,
    ];
    children.push((await startProcess(args, env, /^agent .* ready/)).child);
  }
  client = await ControlPlaneClient.login({ url, ...ADMIN, transport: nodeTransport });
  await waitForAgents(client);
  const credential = JSON.parse(readFileSync(agentCredential(dataDir, "mev", "mev-66"), "utf8")) as { token: string };
  rogue = new LinkBus({ url: `${url.replace("http", "ws")}/api/bus/ws`, token: credential.token, maxBackoffMs: 200 });
});

after(async () => {
  await rogue?.close();
  await client?.close();
  for (const child of children.reverse()) await stopProcess(child);
});

const now = () => BigInt(Date.now());

const forgedStop = messageRecords(TOPICS.controlCommands, [
  {
    key: "mev",
    message: create(ControlCommandSchema, {
      schemaVersion: 1,
      module: Module.mev,
      action: Action.stop,
      requestId: "forged-stop",
      issuer: "admin",
      notAfter: 0n,
    }),
  },
]);
const forgedPolicy = messageRecords(TOPICS.policies, [
  {
    key: "mev",
    message: create(PolicySchema, { schemaVersion: 1, module: Module.mev, version: 2n ** 62n, kill: true }),
  },
]);
const status = (agentId: string, key = agentId) =>
  messageRecords(TOPICS.agentStatus, [
    {
      key,
      message: create(AgentStatusSchema, {
        schemaVersion: 1,
        ts: now(),
        agentId,
        module: Module.mev,
        state: AgentState.running,
        bootId: "ghost",
      }),
    },
  ]);
const forgedAck = (requestId: string) =>
  messageRecords(TOPICS.controlAcks, [
    {
      key: "mev",
      message: create(ControlAckSchema, {
        schemaVersion: 1,
        ts: now(),
        module: Module.mev,
        requestId,
        agentId: "mev-1",
        outcome: AckOutcome.applied,
        state: AgentState.running,
      }),
    },
  ]);

async function refusedCount(): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${client.token}` } });
  assert.equal(res.status, 200);
  let n = 0;
  for (const m of (await res.text()).matchAll(/^mevlab_link_refused_total\{agent="mev-66",[^}]*\} (\d+)$/gm)) {
    n += Number(m[1]);
  }
  return n;
}

async function assertRefused(what: string, attempt: () => Promise<unknown>): Promise<void> {
  await assert.rejects(attempt, /forbidden/, `${what} must be refused`);
}

test("every attack of a rogue agent over the link is refused and counted; the real agents obey the admin only", async () => {
  const publish = (records: OutgoingRecord[], topic: string) => rogue.publish(topic, records);
  await assertRefused("joining mev-1's group", () =>
    rogue.subscribe(
      { topics: [TOPICS.controlCommands.name], group: "agent-mev-1", keys: ["mev"] },
      async () => undefined,
    ),
  );
  await assertRefused("reading another module's commands", () =>
    rogue.subscribe(
      { topics: [TOPICS.controlCommands.name], group: "agent-mev-66", keys: ["arbitrage"] },
      async () => undefined,
    ),
  );
  await assertRefused("a stop with not_after 0 and issuer admin", () =>
    publish(forgedStop, TOPICS.controlCommands.name),
  );
  await assertRefused("a policy of version 2^62", () => publish(forgedPolicy, TOPICS.policies.name));
  await assertRefused("the status of ghost-1", () => publish(status("ghost-1"), TOPICS.agentStatus.name));
  await assertRefused("ghost-2's status under its own key", () =>
    publish(status("ghost-2", "mev-66"), TOPICS.agentStatus.name),
  );
  await assertRefused("an applied ack in the name of mev-1", () => publish(forgedAck("any"), TOPICS.controlAcks.name));
  await assertRefused("a snapshot of the commands", () => rogue.snapshot(TOPICS.controlCommands.name));
  for (let i = 0; i < 20; i++) {
    await assertRefused(`topic flood ${i}`, () => publish([{ key: "k", value: new Uint8Array([i]) }], `flood-${i}`));
    await assertRefused(`group flood ${i}`, () =>
      rogue.subscribe({ topics: [`flood-${i}`], group: `g-${i}` }, async () => undefined),
    );
  }
  const refusedSoFar = await refusedCount();
  assert.equal(refusedSoFar, 48, "each refusal is counted on /metrics");

  // What the rogue may do as itself: hear its module's commands in its own group. It answers the
  // admin's throttle with an ack in mev-1's name: the handled frame is refused and its link ends.
  const heard: string[] = [];
  await rogue.subscribeBatches(
    { topics: [TOPICS.controlCommands.name], group: "agent-mev-66", keys: ["mev"], exclusive: true },
    async (records) => {
      heard.push(...records.map((r) => r.key));
      return forgedAck("whatever").map((r) => ({ ...r, topic: TOPICS.controlAcks.name }));
    },
  );
  const policies = await rogue.snapshot(TOPICS.policies.name);
  assert.ok(
    policies.every((r) => r.key === "mev"),
    "a snapshot shows only the agent's own module",
  );

  const result = await client.command("mev", "throttle", { throttle_pct: 17 });
  assert.equal(State[result.request.state], "applied", result.request.reason);
  assert.deepEqual(
    result.request.outcomes.map((o) => [o.agentId, o.outcome]),
    [["mev-1", AckOutcome.applied]],
  );
  await waitFor("the rogue's forged ack refused", async () =>
    (await refusedCount()) > refusedSoFar ? true : undefined,
  );
  assert.ok(heard.length >= 1, "the rogue heard the command");

  const agents = (await client.agents()).agents;
  assert.deepEqual(agents.map((a) => a.agent_id).sort(), ["arbitrage-1", "mev-1"], "no ghost agents");
  const mev = agents.find((a) => a.agent_id === "mev-1")!;
  assert.equal(mev.state, "throttled");
  assert.equal(mev.throttle_pct, 17);
  const policy = await client.policy("mev");
  assert.equal(BigInt(policy.current.version ?? 0), 0n, "no forged policy version");
});
