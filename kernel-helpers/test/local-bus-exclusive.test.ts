// The local bus as Kafka for a group's members: an `exclusive` member replaces the ones it finds (a
// frozen agent's run held its commands for good: a kill to its module ended in `timeout` while the
// agent started again with its id kept running), and what a member had not handled when it left is
// handled by the group.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LocalBus, type BusRecord } from "../src";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (r: BusRecord) => new TextDecoder().decode(r.value);
const tick = () => new Promise((r) => setTimeout(r, 20));

/** A handler that takes its first batch and never returns: a frozen process. */
function frozen(): { seen: string[]; handler: (records: BusRecord[]) => Promise<void> } {
  const seen: string[] = [];
  return {
    seen,
    handler: (records) => {
      seen.push(...records.map(dec));
      return new Promise<void>(() => undefined);
    },
  };
}

test("an exclusive member replaces the group's earlier member and handles what it had not", async () => {
  const bus = new LocalBus();
  const old = frozen();
  await bus.subscribeBatches({ topics: ["cmd"], group: "agent-a-1", keys: ["a"], exclusive: true }, old.handler);
  await bus.publish("cmd", [{ key: "a", value: enc("kill-1") }]);
  await tick();
  assert.deepEqual(old.seen, ["kill-1"]);

  const seen: string[] = [];
  await bus.subscribe({ topics: ["cmd"], group: "agent-a-1", keys: ["a"], exclusive: true }, async (r) => {
    seen.push(dec(r));
  });
  await bus.publish("cmd", [{ key: "a", value: enc("kill-2") }]);
  await tick();
  assert.deepEqual(seen, ["kill-1", "kill-2"], "the new member handles the stuck command, then the next");
  assert.deepEqual(old.seen, ["kill-1"], "the replaced member gets nothing more");
  await bus.close();
});

test("members that are not exclusive share the group as before", async () => {
  const bus = new LocalBus();
  const first: string[] = [];
  const second: string[] = [];
  await bus.subscribe({ topics: ["t"], group: "g" }, async (r) => void first.push(dec(r)));
  await bus.subscribe({ topics: ["t"], group: "g" }, async (r) => void second.push(dec(r)));
  await bus.publish(
    "t",
    Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: enc(String(i)) })),
  );
  await tick();
  assert.equal(first.length + second.length, 20);
  assert.ok(first.length > 0 && second.length > 0, "both members keep their share");
  await bus.close();
});

test("a member that leaves with records unhandled: the others get them, or the group's next member", async () => {
  const bus = new LocalBus();
  const stuck = frozen();
  const sub = await bus.subscribeBatches({ topics: ["t"], group: "g" }, stuck.handler);
  await bus.publish("t", [{ key: "k", value: enc("1") }]);
  await tick();
  await bus.publish("t", [{ key: "k", value: enc("2") }]);
  await sub.close();

  const seen: string[] = [];
  await bus.subscribe({ topics: ["t"], group: "g" }, async (r) => void seen.push(dec(r)));
  await tick();
  assert.deepEqual(seen, ["1", "2"], "the group resumes at the first record its member had not handled");

  const other = frozen();
  const sub2 = await bus.subscribeBatches({ topics: ["u"], group: "h" }, other.handler);
  const taken: string[] = [];
  await bus.publish("u", [{ key: "k", value: enc("x") }]);
  await tick();
  await bus.subscribe({ topics: ["u"], group: "h" }, async (r) => void taken.push(dec(r)));
  await sub2.close();
  await tick();
  assert.deepEqual(other.seen, ["x"]);
  assert.deepEqual(taken, ["x"], "a remaining member takes what the leaving one held");
  await bus.close();
});
