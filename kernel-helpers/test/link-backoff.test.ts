// A link whose control plane is away keeps its backoff for every caller: each publish used to open a
// socket of its own, and an agent publishing every tick reconnected hundreds of times a second.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { BusError, LinkBus } from "../src";

test("publishes while the link is down fail at once, and sockets are opened only at the backoff's pace", async () => {
  let attempts = 0;
  // Takes each connection and drops it: a control plane that is going down, or not up yet.
  const server = createServer((s) => {
    attempts += 1;
    s.on("error", () => undefined);
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const link = new LinkBus({
    url: `ws://127.0.0.1:${port}/api/bus/ws`,
    token: "t",
    minBackoffMs: 100,
    maxBackoffMs: 400,
  });
  let failed = 0;
  try {
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      await link.publish("agent-metrics", [{ key: "a", value: new Uint8Array([1]) }]).catch((err: unknown) => {
        assert.ok(err instanceof BusError && err.retriable, String(err));
        failed += 1;
      });
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await link.close();
    await new Promise((r) => server.close(r));
  }
  assert.ok(failed > 100, `${failed} publishes tried`);
  // 1.5 s of backoff from 100 ms doubling to 400 ms: 100 + 200 + 400 + 400 + 400 → at most about 6.
  assert.ok(attempts <= 8, `${attempts} connections in 1.5 s for ${failed} publishes`);
});
