import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ControlRequest_State as State } from "@mevlab/proto";
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
import { waitFor } from "../src/stack";
import { isAlive, processesOn, startUp, type UpProcess } from "../src/up";

const bothAgents = async (admin: ControlPlaneClient) => {
  const agents = (await admin.agents()).agents.filter((a) => !a.stale).map((a) => a.agent_id);
  return agents.includes("mev-1") && agents.includes("arbitrage-1") ? true : undefined;
};

/** What `up` started is watched: a part that dies is reported, with its last error lines, and restarted. */
describe("mevlab up watches the control plane and the agents", () => {
  let up: UpProcess;
  let admin: ControlPlaneClient | undefined;
  const pids = new Set<number>();

  before(async () => {
    up = await startUp({ rate: 20 });
    pids.add(up.pids.controlPlane);
    for (const pid of Object.values(up.pids.agents)) pids.add(pid);
  });

  after(async () => {
    await admin?.close();
    await up?.stop("SIGKILL");
  });

  test("a control plane killed with SIGKILL is reported and restarted; the agents come back to it", async () => {
    const old = up.pids.controlPlane;
    process.kill(old, "SIGKILL");
    await up.waitForLine(
      "stderr",
      new RegExp(`^mevlab: control plane \\(pid ${old}\\) exited unexpectedly \\(signal SIGKILL\\)`),
    );
    await up.waitForLine("stderr", /^mevlab: restarting control plane in 1 s \(restart 1\)/);
    const back = await up.waitForLine("stdout", /^mevlab: control plane back on (\S+) \(pid (\d+)\)/, {
      timeoutMs: 30_000,
    });
    assert.equal(back[1], up.url, "on the same address");
    const pid = Number(back[2]);
    assert.notEqual(pid, old);
    pids.add(pid);
    admin = await ControlPlaneClient.login({ url: up.url, ...up.admin, transport: nodeTransport });
    await waitFor("both agents' heartbeats on the new control plane", () => bothAgents(admin!), 30_000);
    const r = await admin.command("arbitrage", "throttle", { throttle_pct: 30 });
    assert.equal(r.request.state, State.applied, r.request.reason);
    assert.equal(r.outcome?.agentId, "arbitrage-1");
  });

  test("an agent killed with SIGKILL is reported and restarted, and applies the next command", async () => {
    // Its own login: a failure in the test before must not fail this one too.
    admin ??= await ControlPlaneClient.login({ url: up.url, ...up.admin, transport: nodeTransport });
    const old = up.pids.agents["mev-1"];
    const from = up.stderr.length;
    process.kill(old, "SIGKILL");
    await up.waitForLine("stderr", new RegExp(`^mevlab: agent mev-1 \\(pid ${old}\\) exited unexpectedly`));
    const restarted = await up.waitForLine("stderr", /^mevlab: agent mev-1 restarted \(pid (\d+)\)/, {
      timeoutMs: 30_000,
      from,
    });
    const pid = Number(restarted[1]);
    pids.add(pid);
    assert.ok(isAlive(pid));
    await up.waitForLine("stderr", /^agent mev-1 \(mev\) on the link bus/, { from });
    const r = await admin.command("mev", "throttle", { throttle_pct: 20 });
    assert.equal(r.request.state, State.applied, r.request.reason);
    assert.equal(r.outcome?.agentId, "mev-1");
    assert.ok(isAlive(up.pids.agents["arbitrage-1"]), "the other agent was left alone");
  });

  test("SIGTERM to up stops everything it started: nothing is left running", async () => {
    await admin?.close();
    admin = undefined;
    await up.stop("SIGTERM");
    assert.equal(up.child.exitCode, 0);
    assert.deepEqual([...pids].filter(isAlive), []);
    assert.deepEqual(processesOn(up.dataDir), []);
  });
});

describe("the children of a mevlab up that is killed outright", () => {
  test("end by themselves: no orphan control plane or agent", async () => {
    const up = await startUp({ rate: 5 });
    const pids = [up.pids.controlPlane, ...Object.values(up.pids.agents)];
    await up.stop("SIGKILL");
    await waitFor("the children gone", () => (pids.some(isAlive) ? undefined : true), 15_000);
    assert.deepEqual(processesOn(up.dataDir), []);
  });
});
