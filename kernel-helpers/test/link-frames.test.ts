import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { LinkFrame } from "@mevlab/proto";
import {
  BusError,
  LINK_MAX_FRAME_BYTES,
  LINK_PROTOCOL,
  LinkBus,
  LinkSession,
  LocalBus,
  decodeLinkFrame,
  encodeLinkFrame,
  type BusRecord,
} from "../src";
import { encodeHandledFrame, encodeOutgoing, encodePublishFrame, splitIntoFrames } from "../src/bus/link-frames";
import { waitFor } from "./wait";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (r: BusRecord) => new TextDecoder().decode(r.value);
/** A record of about `size` bytes whose value starts with its number, so that order can be checked. */
const numbered = (i: number, size = 500) => ({
  key: String(i),
  value: enc(`${i}:`.padEnd(size, "x")),
  headers: { "mevlab-schema-version": "1" },
});
const numberOf = (r: BusRecord) => Number(dec(r).split(":")[0]);

/**
 * The link as the control plane serves it, accepting frames of at most `maxPayload` bytes; `received`
 * sees each frame from the agent with its size, `errors` what ws refused.
 */
async function serveLink(bus: LocalBus, maxPayload: number) {
  const received: { frame: LinkFrame; bytes: number }[] = [];
  const errors: Error[] = [];
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    maxPayload,
    handleProtocols: (p) => (p.has(LINK_PROTOCOL) ? LINK_PROTOCOL : false),
  });
  await once(wss, "listening");
  wss.on("connection", (ws) => {
    ws.on("error", (err) => errors.push(err));
    const session = new LinkSession(
      bus,
      (data) => ws.send(data),
      (reason) => ws.close(1011, reason.slice(0, 120)),
    );
    ws.on("message", (d: Buffer) => {
      const bytes = new Uint8Array(d);
      received.push({ frame: decodeLinkFrame(bytes), bytes: bytes.byteLength });
      void session.handleMessage(bytes);
    });
    ws.on("close", () => void session.close());
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const close = (): void => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  };
  return { url, received, errors, close };
}

/** An agent's LinkBus on a served link with frames of at most `max` bytes, closed after the test. */
async function linkPair(t: TestContext, max: number) {
  const bus = new LocalBus();
  const server = await serveLink(bus, max);
  const link = new LinkBus({ url: server.url, token: "unused", maxFrameBytes: max });
  t.after(async () => {
    await link.close();
    server.close();
    await bus.close();
  });
  return { bus, server, link };
}

test("records are split, in order, into frames that each fit the limit; the frames are what toBinary gives", () => {
  const max = 8 * 1024;
  const records = Array.from({ length: 100 }, (_, i) => encodeOutgoing({ topic: "t", ...numbered(i, 100 + i * 7) }));
  const runs = splitIntoFrames(records, max);
  assert.ok(runs.length > 1, `${runs.length} frames`);
  assert.deepEqual(runs.flat(), records, "every record once, in order");
  for (const [i, run] of runs.entries()) {
    const id = BigInt(i) * 7_000_000_000_000n + 1n;
    const frame = encodePublishFrame(id, run);
    assert.ok(frame.byteLength <= max, `frame ${i}: ${frame.byteLength} bytes`);
    const decoded = decodeLinkFrame(frame);
    assert.equal(decoded.frame.case, "publish");
    const wire = decoded.frame.case === "publish" ? decoded.frame.value.records : [];
    assert.deepEqual(
      frame,
      encodeLinkFrame({ case: "publish", value: { id, records: wire } }),
      "the same bytes as the frame built whole",
    );
    const handled = encodeHandledFrame(18_446_744_073_709_551_615n, 18_446_744_073_709_551_615n, run);
    assert.ok(handled.byteLength <= max, `handled frame ${i}: ${handled.byteLength} bytes`);
  }
  assert.deepEqual(splitIntoFrames([], max), []);
});

for (const [name, limit, count] of [
  ["a small limit", 16 * 1024, 400],
  ["the default limit (LINK_MAX_FRAME_BYTES)", undefined, 1_000],
] as const) {
  test(`a publish larger than one frame arrives whole and in order, each frame under ${name}`, async (t) => {
    const max = limit ?? LINK_MAX_FRAME_BYTES;
    const { bus, server, link } = await linkPair(t, max);
    await link.publish(
      "opportunities",
      Array.from({ length: count }, (_, i) => numbered(i)),
    );
    const stored = await bus.snapshot("opportunities");
    assert.deepEqual(
      stored.map(numberOf),
      Array.from({ length: count }, (_, i) => i),
    );
    const publishes = server.received.filter((f) => f.frame.frame.case === "publish");
    assert.ok(publishes.length >= Math.ceil((count * 500) / max), `${publishes.length} frames`);
    assert.ok(
      publishes.every((f) => f.bytes <= max),
      `largest ${Math.max(...publishes.map((f) => f.bytes))}`,
    );
    assert.deepEqual(server.errors, []);
  });
}

test("a record that fits no frame is refused with a BusError naming its topic and size; nothing is sent", async (t) => {
  const max = 4 * 1024;
  const { bus, link } = await linkPair(t, max);
  await assert.rejects(link.publish("models", [numbered(1, 100), numbered(2, 5_000)]), (err: unknown) => {
    assert.ok(err instanceof BusError);
    assert.equal(err.retriable, false);
    assert.equal(err.topic, "models");
    assert.match(err.message, /record of 50\d\d bytes on topic 'models'.*at most 4096 bytes/);
    return true;
  });
  assert.deepEqual(await bus.snapshot("models"), [], "not even the record before it");
});

test("a handled delivery's output too large for its frame is published first, then the delivery acked", async (t) => {
  const max = 8 * 1024;
  const { bus, server, link } = await linkPair(t, max);
  const outputsBeforeNext: number[] = [];
  await link.subscribeBatches({ topics: ["cmds"], group: "agent" }, async (records) => {
    outputsBeforeNext.push((await bus.snapshot("acks")).length);
    return records.flatMap((r) =>
      Array.from({ length: 40 }, (_, i) => ({ topic: "acks", ...numbered(Number(dec(r)) * 100 + i) })),
    );
  });
  await bus.publish("cmds", [{ key: "k", value: enc("1") }]);
  await waitFor("first batch's output on the bus", async () => (await bus.snapshot("acks")).length === 40);
  await bus.publish("cmds", [{ key: "k", value: enc("2") }]);
  await waitFor("second batch's output on the bus", async () => (await bus.snapshot("acks")).length === 80);
  const acks = (await bus.snapshot("acks")).map(numberOf);
  assert.deepEqual(acks, [
    ...Array.from({ length: 40 }, (_, i) => 100 + i),
    ...Array.from({ length: 40 }, (_, i) => 200 + i),
  ]);
  assert.deepEqual(outputsBeforeNext, [0, 40], "the second delivery came after the first one's output");
  const kinds = server.received
    .map(({ frame: { frame: f } }) => (f.case === "handled" ? `handled+${f.value.publish.length}` : f.case))
    .filter((k) => k !== "subscribe");
  const firstHandled = kinds.indexOf("handled+0");
  assert.ok(firstHandled > 1, `publish frames before the ack: ${kinds.join(" ")}`);
  assert.ok(
    kinds.slice(0, firstHandled).every((k) => k === "publish"),
    kinds.join(" "),
  );
  assert.ok(
    server.received.every((f) => f.bytes <= max),
    "every frame under the limit",
  );
  assert.deepEqual(server.errors, []);
});
