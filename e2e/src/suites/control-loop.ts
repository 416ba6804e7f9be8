// Test code (a node:test suite run by control-loop.local and control-loop.kafka): one describe() of many cases, longer than 80 lines by nature.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AckOutcome,
  AgentState,
  ControlRequest_State as State,
  Stream,
  type AgentOutcome,
  type ControlRequest,
  type Event,
} from "@mevlab/proto";
import {
  ControlPlaneClient,
  RealtimeConnection,
  ResponseError,
  nodeTransport,
  type AgentView,
} from "@mevlab/kernel-helpers";
import { waitFor, waitForAgents, type Stack } from "../stack";

function outcome(request: ControlRequest, agentId: string): AgentOutcome {
  const o = request.outcomes.find((x) => x.agentId === agentId);
  assert.ok(o, `no outcome from ${agentId} in ${request.requestId}`);
  return o;
}

/**
 * The control loop end to end, written once and run against each bus: a command from the control
 * plane reaches a running agent process, and its ack comes back on the WebSocket.
 */
export function controlLoopSuite(name: string, start: () => Promise<Stack>): void {
  describe(`control loop on the ${name} bus`, () => {
    let stack: Stack;
    let admin: ControlPlaneClient;

    const agent = async (id: string): Promise<AgentView | undefined> =>
      (await admin.agents()).agents.find((a) => a.agent_id === id);

    before(async () => {
      stack = await start();
      admin = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
      await waitForAgents(admin);
    });

    after(async () => {
      await admin?.close();
      await stack?.stop();
    });

    /**
     * Both modules' agents running (or throttled), whatever the test before left: every test starts
     * from there, so one that failed before its own restore does not fail the ones after it.
     */
    async function ensureRunning(module: "mev" | "arbitrage"): Promise<void> {
      const id = `${module}-1`;
      const up = (state?: string) => state === "running" || state === "throttled";
      const before = await agent(id);
      const r = await admin.command(module, "start");
      assert.equal(r.request.state, State.applied, `set-up: start ${module}: ${r.request.reason}`);
      if (up(before?.state)) return;
      // It was stopped or killed: the ack shows it running at once, but a heartbeat sent before the
      // start may still be on its way. Wait for one sent after it: the first running one after the ack.
      const ackedAt = (await agent(id))?.last_seen ?? 0;
      await waitFor(`a heartbeat of ${id} running again`, async () => {
        const a = await agent(id);
        return a && a.last_seen > ackedAt && up(a.state) ? true : undefined;
      });
    }

    beforeEach(async () => {
      await Promise.all([ensureRunning("mev"), ensureRunning("arbitrage")]);
    });

    test("throttle on mev is applied by the mev agent and acked on the WS", async () => {
      const r = await admin.command("mev", "throttle", { throttle_pct: 40 });
      assert.equal(r.request.state, State.applied, r.request.reason);
      assert.deepEqual(r.request.expectedAgents, ["mev-1"]);
      assert.equal(r.outcome?.outcome, AckOutcome.applied);
      assert.equal(r.outcome?.agentId, "mev-1");
      assert.equal(r.outcome?.state, AgentState.throttled);
      assert.equal(r.outcome?.throttlePct, 40);
      assert.ok(r.latencyMs > 0 && r.latencyMs < 5_000, `latency ${r.latencyMs}`);
      const record = await admin.request(r.requestId);
      assert.equal(record.state, State.applied);
      assert.equal(record.outcomes[0].agentId, "mev-1");
    });

    test("stop on mev stops only mev: arbitrage keeps running", async () => {
      // Its own throttle, for "start resumes with its throttle" below.
      const throttled = await admin.command("mev", "throttle", { throttle_pct: 40 });
      assert.equal(throttled.request.state, State.applied, `set-up: throttle: ${throttled.request.reason}`);
      const r = await admin.command("mev", "stop");
      assert.equal(r.request.state, State.applied);
      assert.equal(outcome(r.request, "mev-1").state, AgentState.stopped);
      await waitFor("mev-1 reported stopped", async () =>
        (await agent("mev-1"))?.state === "stopped" ? true : undefined,
      );
      assert.equal((await agent("arbitrage-1"))?.state, "running");
      const start = await admin.command("mev", "start");
      assert.equal(outcome(start.request, "mev-1").state, AgentState.throttled, "start resumes with its throttle");
    });

    test("kill on arbitrage is acked by the arbitrage agent only", async () => {
      try {
        const r = await admin.command("arbitrage", "kill");
        assert.deepEqual(
          r.request.outcomes.map((o) => o.agentId),
          ["arbitrage-1"],
        );
        assert.equal(outcome(r.request, "arbitrage-1").state, AgentState.killed);
        await waitFor("arbitrage-1 reported killed", async () =>
          (await agent("arbitrage-1"))?.state === "killed" ? true : undefined,
        );
        assert.notEqual((await agent("mev-1"))?.state, "killed");
      } finally {
        await admin.command("arbitrage", "start");
      }
    });

    test("kill-all stops every module; each agent acks once under one request id", async () => {
      try {
        const r = await admin.killAll();
        assert.equal(r.request.state, State.applied, r.request.reason);
        assert.deepEqual([...r.request.expectedAgents].sort(), ["arbitrage-1", "mev-1"]);
        for (const id of ["arbitrage-1", "mev-1"]) assert.equal(outcome(r.request, id).state, AgentState.killed);
      } finally {
        for (const m of ["arbitrage", "mev"] as const) await admin.command(m, "start");
      }
    });

    test("a policy promotion makes a new version the agent runs; a rollback promotes the old content", async () => {
      const before = await admin.policy("mev");
      const up = await admin.updatePolicy({
        module: "mev",
        ev_min: 0.002,
        tip_ladder: [0.6, 0.8, 0.9],
        reason: "test",
      });
      assert.equal(up.request.state, State.applied, up.request.reason);
      assert.equal(BigInt(up.version), before.current.version + 1n);
      assert.equal(outcome(up.request, "mev-1").policyVersion, BigInt(up.version));
      const after = await admin.policy("mev");
      assert.equal(after.current.evMin, 0.002);
      assert.equal(after.current.parentVersion, before.current.version);
      const back = await admin.rollbackPolicy("mev", Number(before.current.version), "undo test");
      assert.equal(back.request.state, State.applied);
      const rolled = await admin.policy("mev");
      assert.equal(rolled.current.version, BigInt(up.version) + 1n, "a rollback is a new version");
      assert.equal(rolled.current.evMin, before.current.evMin);
      assert.deepEqual(rolled.current.tipLadder, before.current.tipLadder);
      await waitFor("mev-1 heartbeat with the rolled-back version", async () =>
        (await agent("mev-1"))?.policy_version === rolled.current.version.toString() ? true : undefined,
      );
    });

    test("retry_bundle goes to the mev agent; the arbitrage agent never sees it", async () => {
      const r = await admin.retryBundle("b-358412907-3", 140_000n);
      assert.equal(r.request.state, State.applied, r.request.reason);
      assert.deepEqual(
        r.request.outcomes.map((o) => o.agentId),
        ["mev-1"],
      );
    });

    test("opportunities stream live on the WS while agents run", async () => {
      const live = await RealtimeConnection.open(stack.url, admin.token, nodeTransport.webSocket, {
        streams: [Stream.arb_opportunity, Stream.mev_opportunity],
      });
      assert.equal(live.hello.role, "admin");
      const seen: Event[] = [];
      live.listen({ onEvents: (evs) => void seen.push(...evs) });
      try {
        await waitFor("opportunities of both modules", () =>
          seen.some((e) => e.payload.case === "arbOpportunity") && seen.some((e) => e.payload.case === "mevOpportunity")
            ? true
            : undefined,
        );
      } finally {
        live.close();
      }
      const arb = seen.find((e) => e.payload.case === "arbOpportunity");
      assert.ok(arb && arb.payload.case === "arbOpportunity" && arb.payload.value.slot > 0n);
      const seqs = seen.filter((e) => e.stream === Stream.arb_opportunity).map((e) => e.seq);
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1n, "per-stream sequence numbers");
    });

    test("a viewer sees the stream but may not send a command", async () => {
      const viewer = await ControlPlaneClient.login({ url: stack.url, ...stack.viewer, transport: nodeTransport });
      try {
        assert.equal(viewer.role, "viewer");
        await viewer.realtime();
        await assert.rejects(
          viewer.control("mev", "stop"),
          (err: unknown) => err instanceof ResponseError && err.status === 403,
        );
        assert.ok((await viewer.agents()).agents.length >= 2);
      } finally {
        await viewer.close();
      }
    });
  });
}
