import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalBus, type BusRecord } from "../src";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (r: BusRecord) => new TextDecoder().decode(r.value);

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
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(events, ["start 1", "end 1", "start 2", "end 2"]);
  await bus.close();
});
