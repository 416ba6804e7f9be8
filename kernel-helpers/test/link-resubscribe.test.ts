// regression: after the link dropped, a publish could open the new socket before the reconnect timer
// fired, and the agent's subscriptions were never sent on it: heartbeating, shown live, deaf to commands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { waitFor } from "./wait";
import { LINK_PROTOCOL, LinkBus, LinkSession, LocalBus, decodeLinkFrame } from "../src";

test("every socket the link opens gets its subscriptions, whoever opened it", async () => {
  const bus = new LocalBus();
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    handleProtocols: (p) => (p.has(LINK_PROTOCOL) ? LINK_PROTOCOL : false),
  });
  await once(wss, "listening");
  const subscribes: number[] = [];
  wss.on("connection", (ws) => {
    const n = subscribes.push(0) - 1;
    const session = new LinkSession(
      bus,
      (d) => ws.send(d),
      (r) => ws.close(1011, r),
    );
    ws.on("message", (d: Buffer) => {
      if (decodeLinkFrame(new Uint8Array(d)).frame.case === "subscribe") subscribes[n] += 1;
      void session.handleMessage(new Uint8Array(d));
    });
    ws.on("close", () => void session.close());
  });
  const publish = () =>
    void link.publish("opportunities", [{ key: "k", value: new Uint8Array(8) }]).catch(() => undefined);
  const link: LinkBus = new LinkBus({
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    token: "t",
    // A publish the moment the link is seen down: it opens the next socket before the reconnect
    // timer can, every time.
    onStateChange: (up) => up || publish(),
  });
  const got: number[] = [];
  let publishing: NodeJS.Timeout | undefined;
  try {
    await link.subscribe({ topics: ["control-commands"], group: "agent-mev-1" }, async (r) => {
      got.push(r.value[0]);
    });
    // An agent publishes all the time (heartbeats, opportunity batches): here every millisecond, so
    // a publish, not the reconnect timer, is what opens the next socket.
    publishing = setInterval(publish, 1);
    for (const ws of wss.clients) ws.terminate();
    await waitFor("a second connection", () => subscribes.length >= 2);
    await waitFor("the subscription sent on it", () => subscribes[1] >= 1);
    await bus.publish("control-commands", [{ key: "mev", value: new Uint8Array([7]) }]);
    await waitFor("the command after the reconnect", () => got.includes(7));
    assert.equal(subscribes[1], 1, "subscribed once on the new socket");
  } finally {
    clearInterval(publishing);
    await link.close();
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    await bus.close();
  }
});
