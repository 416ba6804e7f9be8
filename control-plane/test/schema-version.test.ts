// The control plane refuses a record whose mevlab-schema-version names a major it does not read:
// an agent's status of schema 2 shows neither in /api/agents nor on the realtime stream; it is
// counted in /metrics and reported on the bus_problem stream.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ControlPlaneClient,
  LocalBus,
  RealtimeConnection,
  nodeTransport,
  sealStatus,
  type OutgoingRecord,
} from "@mevlab/kernel-helpers";
import {
  AgentStatusSchema,
  ArbOpportunitySchema,
  Module,
  SCHEMA_VERSION_HEADER,
  Stream,
  TOPICS,
  create,
  encode,
  type Event,
} from "@mevlab/proto";
import { agentKeyFor, startControlPlane, type ControlPlane } from "../src";

let cp: ControlPlane;
let dataDir: string;
let bus: LocalBus;
let client: ControlPlaneClient;
const logs: string[] = [];

before(async () => {
  bus = new LocalBus();
  dataDir = mkdtempSync(join(tmpdir(), "mevlab-cp-"));
  cp = await startControlPlane({
    dataDir,
    bus,
    port: 0,
    log: (line) => void logs.push(line),
  });
  await cp.users.add("viewer", "viewer-password", "viewer");
  client = await ControlPlaneClient.login({
    url: cp.url,
    username: "viewer",
    password: "viewer-password",
    transport: nodeTransport,
  });
});

after(async () => {
  await client.close();
  await cp.close();
  await bus.close();
});

const status = (agentId: string, version?: string): OutgoingRecord => ({
  key: agentId,
  // Sealed as the agent of that id would (agent_mac under its own key).
  value: encode(
    AgentStatusSchema,
    sealStatus(
      create(AgentStatusSchema, { schemaVersion: 1, agentId, module: Module.mev }),
      agentKeyFor(dataDir, agentId),
    ),
  ),
  headers: version === undefined ? {} : { [SCHEMA_VERSION_HEADER]: version },
});

/** Resolves with every event received once `done` holds for those received so far; fails after 15 s. */
function collect(ws: RealtimeConnection, what: string, done: (events: Event[]) => boolean): Promise<Event[]> {
  const events: Event[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const got = events.map((e) => `${Stream[e.stream]} ${JSON.stringify(e.payload.value?.$typeName)}`);
      reject(new Error(`timed out waiting for ${what}; received: ${got.join(", ")}`));
    }, 15_000);
    ws.listen({
      onEvents: (batch) => {
        events.push(...batch);
        if (!done(events)) return;
        clearTimeout(timer);
        resolve(events);
      },
    });
  });
}

const problemsOf = (events: Event[]) =>
  events.flatMap((e) => (e.payload.case === "busProblem" ? [e.payload.value] : []));

test("a record of schema 2 is skipped before decoding, counted in /metrics and reported on bus_problem", async () => {
  const ws = await RealtimeConnection.open(cp.url, client.token, nodeTransport.webSocket, {
    streams: [Stream.agent_status, Stream.arb_opportunity, Stream.bus_problem],
  });
  try {
    const shownV1 = (events: Event[]) =>
      events.some((e) => e.payload.case === "agentStatus" && e.payload.value.agentId === "agent-v1");
    // Both skipped records reported, and the status published after one of them shown.
    const received = collect(
      ws,
      "agent-v1's status and 2 bus problems",
      (events) => shownV1(events) && problemsOf(events).length >= 2,
    );
    await bus.publish(TOPICS.arbOpportunities.name, [
      {
        key: "1",
        value: encode(ArbOpportunitySchema, create(ArbOpportunitySchema, { id: "arb-v2", agentId: "agent-v2" })),
        headers: { [SCHEMA_VERSION_HEADER]: "2" },
      },
    ]);
    // In order within a topic: once agent-v1 is shown, agent-v2's status has been looked at.
    await bus.publish(TOPICS.agentStatus.name, [status("agent-v2", "2"), status("agent-v1", "1")]);
    const events = await received;
    const problem = problemsOf(events).sort((a, b) => a.topic.localeCompare(b.topic));

    const shown = events.flatMap((e) => (e.payload.case === "agentStatus" ? [e.payload.value.agentId] : []));
    assert.deepEqual(shown, ["agent-v1"]);
    assert.ok(!events.some((e) => e.payload.case === "arbOpportunity"), "the opportunity of schema 2 is not shown");
    const ids = (await client.agents()).agents.map((a) => a.agent_id);
    assert.ok(ids.includes("agent-v1"), ids.join());
    assert.ok(!ids.includes("agent-v2"), ids.join());

    assert.deepEqual(
      problem.map((p) => [p.topic, p.key, p.reason, p.schemaVersion, p.count]),
      [
        ["agent-status", "agent-v2", "schema_version", "2", 1n],
        ["arb-opportunities", "1", "schema_version", "2", 1n],
      ],
    );
    assert.equal(problem[0].partition, -1, "the local bus has no partitions");
    const metrics = await (
      await fetch(`${cp.url}/metrics`, { headers: { authorization: `Bearer ${client.token}` } })
    ).text();
    assert.match(metrics, /^mevlab_records_skipped_total\{topic="agent-status",reason="schema_version"\} 1$/m);
    assert.match(metrics, /^mevlab_records_skipped_total\{topic="arb-opportunities",reason="schema_version"\} 1$/m);
    assert.ok(
      logs.some((l) => /agent-status@\d+ \(key "agent-v2"\): .*schema version "2" is not one this code reads/.test(l)),
      logs.join("\n"),
    );
  } finally {
    ws.close();
  }
});
