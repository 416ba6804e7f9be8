// The hub assembles protobuf Batch frames by hand around the bytes that came off the bus (field
// numbers from the generated descriptors): each frame must be byte for byte what toBinary gives for
// the same ServerFrame, for raw and encoded events alike and for sequence numbers of several bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ArbOpportunitySchema,
  ClientFrameSchema,
  EventSchema,
  Format,
  Module,
  ServerFrameSchema,
  Stream,
  create,
  decode,
  toBinary,
  type Event,
} from "@mevlab/proto";
import { RealtimeHub, fieldNumber } from "../src/realtime/hub";

test("protobuf batch frames are the bytes toBinary gives for the same frame", { timeout: 30_000 }, async () => {
  const hub = new RealtimeHub({ flushMs: 1 });
  const frames: Uint8Array[] = [];
  let received = 0;
  const total = 300;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const client = hub.attach(
    {
      send: (data) => {
        if (typeof data === "string") return;
        const frame = decode(ServerFrameSchema, data);
        if (frame.frame.case !== "batch") return;
        frames.push(new Uint8Array(data));
        received += frame.frame.value.events.length;
        if (received >= total) done();
      },
      bufferedAmount: () => 0,
    },
    { user: "t", role: "viewer", expiresAt: Date.now() + 60_000 },
  );
  client.handleMessage(
    toBinary(
      ClientFrameSchema,
      create(ClientFrameSchema, { schemaVersion: 1, frame: { case: "subscribe", value: { format: Format.protobuf } } }),
    ),
  );
  const published = new Map<string, Event>();
  for (let i = 0; i < total; i++) {
    if (i % 10 === 0) {
      const payload = { case: "controlAck" as const, value: { requestId: `r-${i}`, agentId: "mev-1" } };
      hub.publish(Stream.control_ack, Module.mev, payload);
      const seq = hub.lastSeq(Stream.control_ack);
      published.set(`${Stream.control_ack}/${seq}`, create(EventSchema, { stream: Stream.control_ack, seq, payload }));
      continue;
    }
    const value = create(ArbOpportunitySchema, { id: `arb-${i}`, agentId: "arb-1", slot: 2n ** 40n + BigInt(i) });
    const bytes = toBinary(ArbOpportunitySchema, value);
    hub.publish(
      Stream.arb_opportunity,
      Module.arbitrage,
      { case: "arbOpportunity", value },
      { raw: { field: fieldNumber(EventSchema, "arbOpportunity"), bytes } },
    );
    const seq = hub.lastSeq(Stream.arb_opportunity);
    published.set(
      `${Stream.arb_opportunity}/${seq}`,
      create(EventSchema, { stream: Stream.arb_opportunity, seq, payload: { case: "arbOpportunity", value } }),
    );
  }
  await all;
  hub.detach(client);
  assert.ok(hub.lastSeq(Stream.arb_opportunity) > 128n, "sequence numbers of two varint bytes");
  for (const bytes of frames) {
    const frame = decode(ServerFrameSchema, bytes);
    assert.equal(frame.frame.case, "batch");
    const events = frame.frame.case === "batch" ? frame.frame.value.events : [];
    const expected = create(ServerFrameSchema, {
      schemaVersion: 1,
      frame: { case: "batch", value: { events: events.map((e) => published.get(`${e.stream}/${e.seq}`)!) } },
    });
    assert.deepEqual(Buffer.from(bytes), Buffer.from(toBinary(ServerFrameSchema, expected)));
  }
});

test("fieldNumber reads the descriptor and refuses a field the message does not have", () => {
  assert.equal(
    fieldNumber(EventSchema, "arbOpportunity"),
    EventSchema.fields.find((f) => f.name === "arb_opportunity")!.number,
  );
  assert.throws(() => fieldNumber(EventSchema, "noSuchField"), /mevlab\.v1\.Event has no field noSuchField/);
});
