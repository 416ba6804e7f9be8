import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AckOutcome, ControlRequest_State as State } from "@mevlab/proto";
import { MAX_SIMULATED_RATE } from "@mevlab/agents";
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
import { login, waitForAgents } from "../src/stack";
import { isAlive, startUp, type UpProcess } from "../src/up";

const RUN_MS = 30_000;

/**
 * Regression (issue 18): at `--rate 1000` and above an agent's 100 ms batch of opportunities was one
 * bus link frame larger than the control plane accepts; the control plane died (later: it closed the
 * link, 1009, again and again). The link now splits what it sends into frames under the limit.
 */
describe(`mevlab up at the agents' highest rate (${MAX_SIMULATED_RATE}/s each)`, () => {
  let up: UpProcess;
  let admin: ControlPlaneClient;

  before(async () => {
    up = await startUp({ rate: MAX_SIMULATED_RATE });
    admin = await ControlPlaneClient.login({ url: up.url, ...up.admin, transport: nodeTransport });
    await waitForAgents(admin);
    await new Promise((r) => setTimeout(r, RUN_MS));
  });

  after(async () => {
    await admin?.close();
    await up?.stop();
  });

  test("after 30 s the control plane is still the one started, and answers an authenticated request", async () => {
    assert.ok(isAlive(up.pids.controlPlane), "the control plane process is alive");
    const agents = (await admin.agents()).agents;
    assert.deepEqual(agents.map((a) => a.agent_id).sort(), ["arbitrage-1", "mev-1"]);
    assert.ok(
      agents.every((a) => !a.stale),
      JSON.stringify(agents),
    );
  });

  test("the opportunities reach the control plane at the rate the agents make them", async () => {
    const token = await login(up.url, up.admin.username, up.admin.password);
    const res = await fetch(`${up.url}/api/metrics/summary`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const summary = (await res.json()) as { events_per_s: number };
    // Two agents' opportunities alone are 2 × MAX_SIMULATED_RATE a second; bundle outcomes come on top.
    assert.ok(summary.events_per_s >= MAX_SIMULATED_RATE, `events/s over the last 10 s: ${summary.events_per_s}`);
  });

  test("a control command is applied by the agent", async () => {
    const r = await admin.command("mev", "throttle", { throttle_pct: 25 });
    assert.equal(r.request.state, State.applied, r.request.reason);
    assert.equal(r.outcome?.agentId, "mev-1");
    assert.equal(r.outcome?.outcome, AckOutcome.applied);
    assert.equal(r.outcome?.throttlePct, 25);
  });

  test("up reported no exit and no restart, and no agent lost its bus link", () => {
    const bad = up.stderr.filter((l) =>
      /exited unexpectedly|restarting|bus link down|not sent|Max payload|unhandled|RangeError/i.test(l),
    );
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} lines like these`);
  });
});
