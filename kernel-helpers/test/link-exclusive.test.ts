// An agent's run that froze keeps its link until the ping drops it; the run started again with its id
// subscribes its group as exclusive and must take the group's commands over at once, over the link as
// on Kafka and the local bus. Also: a subscription closed over the link stops its deliveries there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { waitFor } from "./wait";
import { LINK_PROTOCOL, LinkBus, LinkSession, LocalBus } from "../src";

async function linkServer(bus: LocalBus): Promise<{ url: string; close: () => void }> {
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    handleProtocols: (p) => (p.has(LINK_PROTOCOL) ? LINK_PROTOCOL : false),
  });
  await once(wss, "listening");
  wss.on("connection", (ws) => {
    const session = new LinkSession(bus, (d) => ws.send(d));
    ws.on("message", (d: Buffer) => void session.handleMessage(new Uint8Array(d)));
    ws.on("close", () => void session.close());
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, close: () => wss.close() };
}

test("an exclusive subscription over the link replaces the group's older member at once", async () => {
  const bus = new LocalBus();
  const server = await linkServer(bus);
  const frozen = new LinkBus({ url: server.url, token: "t" });
  const fresh = new LinkBus({ url: server.url, token: "t" });
  const got = { frozen: [] as number[], fresh: [] as number[] };
  try {
    const options = { topics: ["control-commands"], group: "agent-mev-1", exclusive: true };
    // The old run takes a delivery and never answers it, as a SIGSTOPped process.
    await frozen.subscribe(options, (r) => {
      got.frozen.push(r.value[0]);
      return new Promise<void>(() => undefined);
    });
    await bus.publish("control-commands", [{ key: "mev", value: new Uint8Array([1]) }]);
    await waitFor("the frozen run's delivery", () => got.frozen.length === 1);
    await fresh.subscribe(options, async (r) => void got.fresh.push(r.value[0]));
    await bus.publish("control-commands", [{ key: "mev", value: new Uint8Array([2]) }]);
    await waitFor("the new run's deliveries", () => got.fresh.includes(2));
    assert.deepEqual(got.frozen, [1]);
    assert.deepEqual(got.fresh, [1, 2], "what the frozen run held is handed over, then the next one");
  } finally {
    await frozen.close();
    await fresh.close();
    await bus.close();
    server.close();
  }
});

test("a subscription closed over the link is no longer delivered at the control plane", async () => {
  const bus = new LocalBus();
  const server = await linkServer(bus);
  const link = new LinkBus({ url: server.url, token: "t" });
  const other: number[] = [];
  try {
    const sub = await link.subscribe({ topics: ["t"], group: "g" }, async () => undefined);
    await sub.close();
    // Were the closed member still in the group at the control plane, it would take half the records.
    await bus.subscribe({ topics: ["t"], group: "g" }, async (r) => void other.push(r.value[0]));
    await bus.publish(
      "t",
      Array.from({ length: 10 }, (_, i) => ({ key: String(i), value: new Uint8Array([i]) })),
    );
    await waitFor("every record at the remaining member", () => other.length === 10);
  } finally {
    await link.close();
    await bus.close();
    server.close();
  }
});
