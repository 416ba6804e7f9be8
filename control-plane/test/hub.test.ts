// The realtime hub with a client that never reads: its queue stays under its byte cap, every event it
// loses is counted, the slots it keeps stay bounded (dropped events do not pile up as holes), and a
// client that reads gets every event in order; events kept for replay only as bytes come back intact.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ArbOpportunitySchema,
  ClientFrameSchema,
  ControlRequestSchema,
  ControlRequest_State,
  EventSchema,
  Format,
  Module,
  ServerFrameSchema,
  Stream,
  create,
  decode,
  fromWireJson,
  toBinary,
  toWireJson,
} from "@mevlab/proto";
import { RealtimeHub, type ClientTransport } from "../src/realtime/hub";

function subscribe(format: Format): string {
  return JSON.stringify(
    toWireJson(
      ClientFrameSchema,
      create(ClientFrameSchema, {
        schemaVersion: 1,
        frame: { case: "subscribe", value: { streams: [Stream.arb_opportunity], format } },
      }),
    ),
  );
}

test("a client that never reads keeps a bounded queue; one that reads gets everything in order", async () => {
  const cap = 256 * 1024;
  const hub = new RealtimeHub({ maxQueueBytes: cap, socketHighWaterBytes: 64 * 1024, flushMs: 5 });
  // The slow socket already holds 128 KiB it cannot write: nothing more is handed to it.
  const slowTransport: ClientTransport = { send: () => undefined, bufferedAmount: () => 128 * 1024 };
  const seqs: bigint[] = [];
  const fastTransport: ClientTransport = {
    send: (data) => {
      if (typeof data === "string") return;
      const frame = decode(ServerFrameSchema, data);
      if (frame.frame.case === "batch") for (const e of frame.frame.value.events) seqs.push(e.seq);
    },
    bufferedAmount: () => 0,
  };
  const who = { user: "t", role: "viewer", expiresAt: Date.now() + 60_000 };
  const slow = hub.attach(slowTransport, who);
  const fast = hub.attach(fastTransport, who);
  slow.handleMessage(subscribe(Format.protobuf));
  fast.handleMessage(subscribe(Format.protobuf));
  try {
    const N = 60_000;
    let maxSlots = 0;
    for (let i = 0; i < N; i++) {
      hub.publish(
        Stream.arb_opportunity,
        Module.arbitrage,
        { case: "arbOpportunity", value: { id: `arb-${i}`, agentId: "a", ts: BigInt(i) } },
        { dexes: ["orca"], netSol: 0.01 },
      );
      maxSlots = Math.max(maxSlots, slow.queueSlots);
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(slow.queueBytes() <= cap, `slow queue ${slow.queueBytes()} bytes, cap ${cap}`);
    const dropped = hub.dropped.get(Stream.arb_opportunity) ?? 0n;
    assert.equal(dropped + BigInt(slow.queuedEvents), BigInt(N), "every event is queued or counted as dropped");
    assert.ok(dropped > 0n);
    // Holes are closed up once they are most of the array: slots stay near the waiting events.
    assert.ok(maxSlots <= 2 * slow.queuedEvents + 8192, `slots peaked at ${maxSlots} for ${slow.queuedEvents} waiting`);
    assert.equal(seqs.length, N);
    assert.ok(seqs.every((s, i) => s === BigInt(i + 1)));
  } finally {
    // A client that is never detached keeps its flush timer, and the test process, alive.
    hub.detach(slow);
    hub.detach(fast);
  }
});

test("events kept for replay as bytes come back identical in both formats", () => {
  const hub = new RealtimeHub({ flushMs: 1 });
  const who = { user: "t", role: "viewer", expiresAt: Date.now() + 60_000 };
  const originals = Array.from({ length: 5 }, (_, i) =>
    create(EventSchema, {
      stream: Stream.arb_opportunity,
      seq: BigInt(i + 1),
      payload: {
        case: "arbOpportunity",
        value: { id: `arb-${i}`, agentId: "a", ts: BigInt(1_000 + i), slot: 2n ** 63n + BigInt(i) },
      },
    }),
  );
  // Published as the bridge does (with the bytes that came off the bus) and with no client attached:
  // only the ring holds them, settled to bytes.
  for (const e of originals) {
    if (e.payload.case !== "arbOpportunity") continue;
    const bytes = toBinary(ArbOpportunitySchema, e.payload.value);
    hub.publish(e.stream, Module.arbitrage, e.payload, { raw: { field: 5, bytes } });
  }
  const got: Record<string, unknown[]> = { ndjson: [], protobuf: [] };
  for (const format of [Format.ndjson, Format.protobuf]) {
    const name = format === Format.ndjson ? "ndjson" : "protobuf";
    const client = hub.attach(
      {
        send: (data, text) => {
          const frame =
            typeof data === "string" || text
              ? fromWireJson(ServerFrameSchema, JSON.parse(Buffer.from(data).toString()))
              : decode(ServerFrameSchema, data);
          if (frame.frame.case === "batch")
            got[name].push(...frame.frame.value.events.map((e) => toWireJson(EventSchema, e)));
        },
        bufferedAmount: () => 0,
      },
      who,
    );
    const sub = create(ClientFrameSchema, {
      schemaVersion: 1,
      frame: {
        case: "subscribe",
        value: { streams: [Stream.arb_opportunity], format, sinceSeq: { arb_opportunity: 0n }, epoch: hub.epoch },
      },
    });
    client.handleMessage(JSON.stringify(toWireJson(ClientFrameSchema, sub)));
    hub.detach(client);
  }
  const want = originals.map((e) => toWireJson(EventSchema, e));
  assert.deepEqual(got.ndjson, want);
  assert.deepEqual(got.protobuf, want);
});

test("final_requests: a subscriber gets only final request records, others every change", async () => {
  const hub = new RealtimeHub({ flushMs: 1 });
  const who = { user: "t", role: "viewer", expiresAt: Date.now() + 60_000 };
  const received = (finalRequests: boolean) => {
    const states: ControlRequest_State[] = [];
    const client = hub.attach(
      {
        send: (data) => {
          if (typeof data === "string") return;
          const frame = decode(ServerFrameSchema, data);
          if (frame.frame.case !== "batch") return;
          for (const e of frame.frame.value.events) {
            if (e.payload.case === "controlRequest") states.push(e.payload.value.state);
          }
        },
        bufferedAmount: () => 0,
      },
      who,
    );
    client.handleMessage(
      toBinary(
        ClientFrameSchema,
        create(ClientFrameSchema, {
          schemaVersion: 1,
          frame: {
            case: "subscribe",
            value: { streams: [Stream.control_request], format: Format.protobuf, finalRequests },
          },
        }),
      ),
    );
    return states;
  };
  const every = received(false);
  const finals = received(true);
  const request = create(ControlRequestSchema, {
    requestId: "r1",
    modules: [Module.mev],
    state: ControlRequest_State.pending,
  });
  const publish = () =>
    hub.publish(
      Stream.control_request,
      Module.mev,
      { case: "controlRequest", value: request },
      { pending: request.state === ControlRequest_State.pending },
    );
  publish(); // created
  publish(); // one agent's ack, still pending
  request.state = ControlRequest_State.applied;
  publish(); // final
  await new Promise((r) => setTimeout(r, 20));
  const { pending, applied } = ControlRequest_State;
  assert.deepEqual(every, [pending, pending, applied]);
  assert.deepEqual(finals, [applied]);
});
