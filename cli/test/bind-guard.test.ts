// regression: the tslab kernel did not answer ("Kernel didn't respond in 60 seconds") when its first
// request came in while zeromq.js still held a socket blocked by its bind; tslab's reply threw EBUSY.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { guardBinds } from "../src/tslab/bind-guard";

/** A kernel's shell socket and a client: the client sends as soon as the bind is under way. */
async function exchange(): Promise<string> {
  const server = new zmq.Router();
  const client = new zmq.Dealer();
  try {
    const bound = server.bind("tcp://127.0.0.1:*");
    // tslab's read loop and its reply both run while the bind may still be in flight.
    const request = server.receive();
    await bound;
    client.connect(server.lastEndpoint!);
    await client.send("kernel_info_request");
    const [peer, body] = await request;
    await server.send([peer, `reply to ${body.toString()}`]);
    const [reply] = await client.receive();
    return reply.toString();
  } finally {
    server.close();
    client.close();
  }
}

test("a socket's receive and send made while its bind is in flight wait for the bind", async () => {
  // Without the guard, zeromq.js refuses them at once: the race the kernel lost on a busy machine.
  const unguarded = new zmq.Router();
  try {
    const bound = unguarded.bind("tcp://127.0.0.1:*");
    assert.throws(() => void unguarded.receive(), { code: "EBUSY" });
    await bound;
  } finally {
    unguarded.close();
  }
  guardBinds();
  assert.equal(await exchange(), "reply to kernel_info_request");
});
