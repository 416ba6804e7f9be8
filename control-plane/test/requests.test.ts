// The request journal: whole records when a request is created or times out, one line per ack; a
// tracker started on the same file has every request as the first one left it, and resolves the
// requests that were still pending from the acks that come after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AckOutcome,
  Action,
  AgentState,
  ControlAckSchema,
  ControlRequestSchema,
  ControlRequest_State as State,
  Module,
  create,
  toWireJson,
  type ControlRequest,
} from "@mevlab/proto";
import { RequestTracker } from "../src/control/requests";

const ack = (requestId: string, agentId: string, outcome: AckOutcome, throttlePct: number, reason = "") =>
  create(ControlAckSchema, {
    schemaVersion: 1,
    ts: 1_755_310_001_200n,
    module: Module.mev,
    requestId,
    agentId,
    outcome,
    reason,
    policyVersion: 9_007_199_254_740_993n,
    state: AgentState.throttled,
    throttlePct,
    action: Action.throttle,
  });

test("the journal brings back every request as it was, and a restarted tracker resolves the pending ones", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-requests-")), "requests.jsonl");
  const changes: { id: string; state: State; outcomes: number }[] = [];
  const pushed: ControlRequest[] = [];
  const first = new RequestTracker({
    file,
    timeoutMs: 60_000,
    onChange: (r) => {
      pushed.push(r);
      changes.push({ id: r.requestId, state: r.state, outcomes: r.outcomes.length });
    },
  });
  const init = (requestId: string) => ({
    requestId,
    modules: [Module.mev],
    action: Action.throttle,
    args: { throttlePct: 40 },
    issuer: "admin",
    createdAt: 1_755_310_001_123n,
    notAfter: 1_755_310_011_123n,
    expectedAgents: ["mev-1", "mev-2"],
  });
  const journal = () => readFileSync(file, "utf8").trim().split("\n").filter(Boolean);
  first.create(init("done"));
  assert.equal(changes.length, 0, "the pending record is pushed once the caller yields, not inside create");
  assert.equal(journal().length, 0, "journaled once the caller yields (after it has published), not inside create");
  await Promise.resolve();
  assert.deepEqual(changes, [{ id: "done", state: State.pending, outcomes: 0 }]);
  assert.equal(journal().length, 1);
  first.onAck(ack("done", "mev-1", AckOutcome.applied, 40));
  first.onAck(ack("done", "mev-1", AckOutcome.applied, 40)); // the same agent again: ignored
  first.onAck(ack("done", "mev-2", AckOutcome.rejected, 0, "throttle_pct: must be 0-100"));
  first.create(init("half"));
  first.onAck(ack("half", "mev-2", AckOutcome.applied, 40));
  await Promise.resolve();
  assert.deepEqual(
    changes.map((c) => `${c.id}:${State[c.state]}:${c.outcomes}`),
    ["done:pending:0", "done:pending:1", "done:rejected:2", "half:pending:0", "half:pending:1"],
  );
  // A pushed record is a snapshot: later changes are new records (a client may encode it later).
  assert.deepEqual(
    pushed.map((r) => `${r.requestId}:${State[r.state]}:${r.outcomes.length}`),
    changes.map((c) => `${c.id}:${State[c.state]}:${c.outcomes}`),
  );
  const asJson = (r: ControlRequest | undefined) => toWireJson(ControlRequestSchema, r!);
  const before = { done: asJson(first.get("done")), half: asJson(first.get("half")) };
  await first.close();
  // An ack read before the caller yielded still comes after the record it belongs to.
  assert.deepEqual(
    journal().map((l) => {
      const line = JSON.parse(l) as { ack?: unknown; request_id?: string; requestId?: string };
      return `${line.ack ? "ack" : "record"}:${line.request_id ?? line.requestId}`;
    }),
    ["record:done", "ack:done", "ack:done", "record:half", "ack:half"],
    "2 records + 3 ack lines",
  );

  const second = new RequestTracker({ file, timeoutMs: 60_000, onChange: () => undefined });
  assert.deepEqual(asJson(second.get("done")), before.done);
  assert.deepEqual(asJson(second.get("half")), before.half);
  assert.equal(second.get("done")!.outcomes[1].throttlePct, 0);
  assert.equal(second.get("done")!.reason, "throttle_pct: must be 0-100");
  second.onAck(ack("half", "mev-1", AckOutcome.applied, 40));
  assert.equal(second.get("half")!.state, State.applied);
  await second.close();
  const third = new RequestTracker({ file, timeoutMs: 60_000, onChange: () => undefined });
  assert.equal(third.get("half")!.state, State.applied);
  assert.deepEqual(
    third.get("half")!.outcomes.map((o) => o.agentId),
    ["mev-2", "mev-1"],
  );
  await third.close();
});

test("a request that times out is journaled whole; a late ack is kept without changing its state", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-requests-")), "requests.jsonl");
  const tracker = new RequestTracker({ file, timeoutMs: 20, onChange: () => undefined });
  tracker.create({
    requestId: "slow",
    modules: [Module.mev],
    action: Action.stop,
    issuer: "admin",
    createdAt: 1n,
    notAfter: 2n,
    expectedAgents: ["mev-1"],
  });
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(tracker.get("slow")!.state, State.timeout);
  tracker.onAck(ack("slow", "mev-1", AckOutcome.applied, 0));
  await tracker.close();
  const again = new RequestTracker({ file, timeoutMs: 20, onChange: () => undefined });
  const r = again.get("slow")!;
  assert.equal(r.state, State.timeout);
  assert.match(r.reason, /no ack from mev-1/);
  assert.equal(r.outcomes.length, 1);
  await again.close();
});

test("regression: a torn last line no longer stops the start; it is cut off and the file named", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-requests-")), "requests.jsonl");
  const first = new RequestTracker({ file, timeoutMs: 60_000, onChange: () => undefined });
  first.create({
    requestId: "kept",
    modules: [Module.mev],
    action: Action.stop,
    issuer: "admin",
    createdAt: 1n,
    notAfter: 2n,
    expectedAgents: ["mev-1"],
  });
  await Promise.resolve();
  first.onAck(ack("kept", "mev-1", AckOutcome.applied, 0));
  await first.close();
  const whole = readFileSync(file, "utf8");
  // A crash while the next ack line was written.
  const torn = '{"request_id":"kept","ack":{"agentId":"mev-';
  appendFileSync(file, torn);
  const logged: string[] = [];
  const second = new RequestTracker({ file, timeoutMs: 60_000, onChange: () => undefined, log: (l) => logged.push(l) });
  assert.equal(second.get("kept")!.state, State.applied);
  await second.close();
  assert.equal(readFileSync(file, "utf8"), whole, "the torn line is gone");
  assert.equal(logged.length, 1);
  assert.match(logged[0], new RegExp(`^${file}:3: dropped a torn last line \\(${torn.length} bytes, no newline\\)`));

  // The same bytes before a whole line are damage, not a crash: the start refuses and names the line.
  const lines = whole.trimEnd().split("\n");
  writeFileSync(file, [lines[0], torn, lines[1]].join("\n") + "\n");
  assert.throws(() => new RequestTracker({ file, timeoutMs: 60_000, onChange: () => undefined }), {
    message: `${file}:2: not valid JSON (only the last line may be torn)`,
  });
});

test("an ack from an agent the request did not expect, or of another module, counts for nothing", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "mevlab-requests-")), "requests.jsonl");
  const states: State[] = [];
  const tracker = new RequestTracker({ file, timeoutMs: 60_000, onChange: (r) => void states.push(r.state) });
  try {
    tracker.create({
      requestId: "r",
      modules: [Module.mev],
      action: Action.throttle,
      args: { throttlePct: 40 },
      issuer: "admin",
      createdAt: 1n,
      notAfter: 2n,
      expectedAgents: ["mev-1"],
    });
    await Promise.resolve();
    assert.equal(tracker.onAck(ack("r", "ghost-1", AckOutcome.applied, 40)), "unexpected_agent");
    assert.equal(
      tracker.onAck({ ...ack("r", "mev-1", AckOutcome.applied, 40), module: Module.arbitrage }),
      "unexpected_agent",
    );
    assert.equal(tracker.get("r")?.state, State.pending, "still waiting for mev-1");
    assert.equal(tracker.get("r")?.outcomes.length, 0);
    assert.equal(tracker.onAck(ack("r", "mev-1", AckOutcome.applied, 40)), undefined);
    assert.equal(tracker.get("r")?.state, State.applied);
    assert.deepEqual(
      tracker.get("r")?.outcomes.map((o) => o.agentId),
      ["mev-1"],
    );
  } finally {
    await tracker.close();
  }
});
