import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { LinkFrame } from "@mevlab/proto";
import {
  LINK_PROTOCOL,
  LinkBus,
  LinkSession,
  LocalBus,
  decodeLinkFrame,
  encodeDelivery,
  encodeLinkFrame,
  type Bus,
  type BusRecord,
} from "../src";
import { waitFor, waitUntil } from "./wait";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (r: BusRecord) => new TextDecoder().decode(r.value);

/**
 * The link as the control plane serves it: one LinkSession per WebSocket, from `bus`, ending a link
 * with 1011. `sent` and `received` see every frame going to and coming from the agent.
 */
async function serveLink(
  bus: Bus,
  taps: { sent?: (f: LinkFrame) => void; received?: (f: LinkFrame) => void; ended?: (reason: string) => void } = {},
): Promise<{ url: string; close: () => void }> {
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    handleProtocols: (p) => (p.has(LINK_PROTOCOL) ? LINK_PROTOCOL : false),
  });
  await once(wss, "listening");
  wss.on("connection", (ws) => {
    const session = new LinkSession(
      bus,
      (data) => {
        taps.sent?.(decodeLinkFrame(data));
        ws.send(data);
      },
      (reason) => {
        taps.ended?.(reason);
        ws.close(1011, reason.slice(0, 120));
      },
    );
    ws.on("message", (d: Buffer) => {
      const bytes = new Uint8Array(d);
      taps.received?.(decodeLinkFrame(bytes));
      void session.handleMessage(bytes);
    });
    ws.on("close", () => void session.close());
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

test("each group sees each record once; different groups each see all, in order per key", async () => {
  const bus = new LocalBus();
  const a: string[] = [];
  const b1: string[] = [];
  const b2: string[] = [];
  await bus.subscribe({ topics: ["t"], group: "a" }, async (r) => void a.push(dec(r)));
  await bus.subscribe({ topics: ["t"], group: "b" }, async (r) => void b1.push(dec(r)));
  await bus.subscribe({ topics: ["t"], group: "b" }, async (r) => void b2.push(dec(r)));
  const keys = ["mev", "arbitrage"];
  await bus.publish(
    "t",
    Array.from({ length: 20 }, (_, i) => ({ key: keys[i % 2], value: enc(`${keys[i % 2]}-${i}`) })),
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(a.length, 20);
  assert.equal(b1.length + b2.length, 20);
  for (const list of [a, b1, b2]) {
    for (const k of keys) {
      const nums = list.filter((x) => x.startsWith(k)).map((x) => Number(x.split("-")[1]));
      assert.deepEqual(
        nums,
        [...nums].sort((x, y) => x - y),
        "order per key",
      );
    }
  }
  await bus.close();
});

test("a group that resubscribes resumes where it stopped; fromBeginning replays retained records", async () => {
  const bus = new LocalBus();
  const got: string[] = [];
  const sub = await bus.subscribe({ topics: ["p"], group: "agent" }, async (r) => void got.push(dec(r)));
  await bus.publish("p", [{ key: "mev", value: enc("v1") }]);
  await new Promise((r) => setImmediate(r));
  await sub.close();
  await bus.publish("p", [{ key: "mev", value: enc("v2") }]);
  await bus.subscribe({ topics: ["p"], group: "agent" }, async (r) => void got.push(dec(r)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ["v1", "v2"]);
  const fresh: string[] = [];
  await bus.subscribe({ topics: ["p"], group: "new", fromBeginning: true }, async (r) => void fresh.push(dec(r)));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(fresh, ["v1", "v2"]);
  await bus.close();
});

test("the handler's effect comes first: the next record waits for the previous handler", async () => {
  const bus = new LocalBus();
  const events: string[] = [];
  await bus.subscribe({ topics: ["s"], group: "g" }, async (r) => {
    events.push(`start ${dec(r)}`);
    await new Promise((res) => setTimeout(res, 5));
    events.push(`end ${dec(r)}`);
  });
  await bus.publish("s", [
    { key: "k", value: enc("1") },
    { key: "k", value: enc("2") },
  ]);
  await waitUntil(() => events.length >= 4);
  assert.deepEqual(events, ["start 1", "end 1", "start 2", "end 2"]);
  await bus.close();
});

test("keys: a subscription gets only its keys' records, on the local bus and over the link, where no other key travels", async (t) => {
  const bus = new LocalBus();
  const direct: string[] = [];
  const keyed = await bus.subscribe(
    { topics: ["c"], group: "direct", keys: ["mev"] },
    async (r) => void direct.push(dec(r)),
  );
  const keysSent: string[] = [];
  const server = await serveLink(bus, {
    sent: ({ frame: f }) => {
      if (f.case !== "delivery") return;
      for (const r of [...(f.value.record ? [f.value.record] : []), ...f.value.records]) keysSent.push(r.key);
    },
  });
  const link = new LinkBus({ url: server.url, token: "unused" });
  t.after(async () => {
    await link.close();
    server.close();
    await bus.close();
  });
  const viaLink: string[] = [];
  const all: string[] = [];
  await link.subscribe({ topics: ["c"], group: "linked", keys: ["mev"] }, async (r) => void viaLink.push(dec(r)));
  await bus.subscribe({ topics: ["c"], group: "all" }, async (r) => void all.push(dec(r)));
  const keys = ["arbitrage", "mev"];
  await bus.publish(
    "c",
    Array.from({ length: 10 }, (_, i) => ({ key: keys[i % 2], value: enc(`${keys[i % 2]}-${i}`) })),
  );
  await waitUntil(() => viaLink.length >= 5);
  const mev = ["mev-1", "mev-3", "mev-5", "mev-7", "mev-9"];
  assert.deepEqual(direct, mev);
  assert.deepEqual(viaLink, mev);
  assert.equal(all.length, 10, "a subscription without keys still gets everything");
  assert.deepEqual([...new Set(keysSent)], ["mev"], "only the subscribed key crossed the link");
  // The filtered group moved past the other keys: subscribing again without keys starts after them.
  await bus.publish("c", [{ key: "arbitrage", value: enc("arbitrage-10") }]);
  await keyed.close();
  const later: string[] = [];
  await bus.subscribe({ topics: ["c"], group: "direct" }, async (r) => void later.push(dec(r)));
  await bus.publish("c", [{ key: "arbitrage", value: enc("arbitrage-11") }]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(later, ["arbitrage-11"]);
});

test("a batch handler's output is published before the group moves on; over the link it rides in the handled frame", async (t) => {
  const bus = new LocalBus();
  // Every delivered command is answered with an ack; each handler call first records which acks the
  // bus already holds, so that the output of one batch must be on the bus before the next batch.
  const answer = (seenByHandler: number[]) => async (records: BusRecord[]) => {
    seenByHandler.push((await bus.snapshot("acks")).length);
    return records.map((r) => ({ topic: "acks", key: r.key, value: enc(`ack:${dec(r)}`) }));
  };
  const direct: number[] = [];
  await bus.subscribeBatches({ topics: ["cmds"], group: "direct", keys: ["mev"] }, answer(direct));
  await bus.publish("cmds", [{ key: "mev", value: enc("c1") }]);
  await new Promise((r) => setImmediate(r));
  await bus.publish("cmds", [{ key: "mev", value: enc("c2") }]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual((await bus.snapshot("acks")).map(dec), ["ack:c1", "ack:c2"]);
  assert.deepEqual(direct, [0, 1], "the second batch was handled after the first one's output was published");

  // Over the link: the agent sends one frame per handled batch, with its output; the control plane
  // publishes it, and when it cannot, the delivery fails and the link ends.
  let failNext = false;
  const flaky: typeof bus = Object.create(bus) as typeof bus;
  flaky.publish = async (topic, records) => {
    if (topic === "acks" && failNext) {
      failNext = false;
      throw new Error("store full");
    }
    return bus.publish(topic, records);
  };
  const fromAgent: string[] = [];
  const ended: string[] = [];
  const server = await serveLink(flaky, {
    received: ({ frame: f }) =>
      fromAgent.push(f.case === "handled" ? `handled+${f.value.publish.length}` : String(f.case)),
    ended: (reason) => ended.push(reason),
  });
  const link = new LinkBus({ url: server.url, token: "unused", minBackoffMs: 10 });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  t.after(async () => {
    process.off("warning", onWarning);
    await link.close();
    server.close();
    await bus.close();
  });
  const viaLink: number[] = [];
  await link.subscribeBatches({ topics: ["cmds"], group: "agent", keys: ["arbitrage"] }, answer(viaLink));
  const acksOf = async (prefix: string) => (await bus.snapshot("acks")).map(dec).filter((a) => a.startsWith(prefix));
  await bus.publish("cmds", [{ key: "arbitrage", value: enc("a1") }]);
  await waitFor("a1 acked", async () => (await acksOf("ack:a")).length === 1);
  await bus.publish("cmds", [{ key: "arbitrage", value: enc("a2") }]);
  await waitFor("a2 acked", async () => (await acksOf("ack:a")).length === 2);
  assert.deepEqual(await acksOf("ack:a"), ["ack:a1", "ack:a2"]);
  assert.deepEqual(
    fromAgent.filter((f) => f !== "subscribe"),
    ["handled+1", "handled+1"],
    "no publish round trip: the acks came in the handled frames",
  );

  failNext = true;
  await bus.publish("cmds", [{ key: "arbitrage", value: enc("a3") }]);
  await waitFor("the link ended", async () => ended.length === 1);
  assert.match(ended[0], /not published: store full/);
  await waitFor("the failed delivery reported", async () => warnings.some((w) => /store full/.test(w)));
  assert.deepEqual(await acksOf("ack:a"), ["ack:a1", "ack:a2"], "nothing of the failed batch was published");
  // The agent reconnects and resubscribes; what comes next is delivered and acked again.
  await waitFor("resubscribed", async () => fromAgent.filter((f) => f === "subscribe").length === 2);
  await bus.publish("cmds", [{ key: "arbitrage", value: enc("a4") }]);
  await waitFor("a4 acked after the reconnect", async () => (await acksOf("ack:a")).includes("ack:a4"));
});

test("a delivery frame assembled from the records' cached encodings is the frame toBinary gives", () => {
  const record = (offset: string, headers: Record<string, string>, value: Uint8Array): BusRecord => ({
    topic: "control-commands",
    key: "mev",
    value,
    headers,
    offset,
    timestamp: 1_755_310_001_123,
  });
  const batches: BusRecord[][] = [
    [record("0", {}, new Uint8Array())],
    [record("7", { "x-schema-version": "1" }, enc("a command"))],
    [
      record("18446744073709551615", { "x-schema-version": "1", b: "2" }, new Uint8Array(300).fill(7)),
      record("9007199254740993", {}, enc("second")),
      record("3", { only: "" }, enc("third")),
    ],
  ];
  for (const subscription of [0n, 1n, 300n, 18_446_744_073_709_551_615n]) {
    for (const records of batches) {
      const expected = encodeLinkFrame({
        case: "delivery",
        value: {
          subscription,
          records: records.map((r) => ({
            ...r,
            offset: BigInt(r.offset),
            timestamp: BigInt(r.timestamp),
          })),
        },
      });
      // Twice: the second time the records' encodings come from the cache.
      for (let i = 0; i < 2; i++) assert.deepEqual(encodeDelivery(subscription, records), expected);
    }
  }
});
