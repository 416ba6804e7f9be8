// A client's realtime connection through an outage (a TCP relay the test cuts): reopened by any call
// (here: the one a command makes to wait for its outcome), it resumes after the last event it
// received, so what the control plane published meanwhile arrives — the acks of the commands another
// admin sent during the outage, in seq order, with none missing. Without the resume it would reopen
// from now and those acks would never reach this client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ControlPlaneClient, nodeTransport } from "@mevlab/kernel-helpers";
import { Stream, type Event } from "@mevlab/proto";
import { embeddedStack, waitFor, waitForAgents, type Stack } from "../src/stack";
import { TcpProxy } from "../src/tcp-proxy";

let stack: Stack;
let proxy: TcpProxy;
let admin: ControlPlaneClient;
let client: ControlPlaneClient;

before(async () => {
  stack = await embeddedStack({ rate: 5 });
  proxy = await TcpProxy.start({ host: "127.0.0.1", port: Number(new URL(stack.url).port) });
  admin = await ControlPlaneClient.login({ url: stack.url, ...stack.admin, transport: nodeTransport });
  client = await ControlPlaneClient.login({ url: proxy.url, ...stack.viewer, transport: nodeTransport });
  await waitForAgents(admin);
});

after(async () => {
  await client?.close();
  await admin?.close();
  await proxy?.cut();
  await stack?.stop();
});

/** The throttle percentages of the control acks in `events`, with their seqs. */
function throttles(events: Event[]): { seq: bigint; pct: number }[] {
  return events.flatMap((e) =>
    e.payload.case === "controlAck" && e.payload.value.requestId
      ? [{ seq: e.seq, pct: e.payload.value.throttlePct }]
      : [],
  );
}

test("a reopened realtime connection replays what was published while it was away", async () => {
  const seen: { seq: bigint; pct: number }[] = [];
  const first = await client.realtime({ streams: [Stream.control_ack] });
  first.listen({ onEvents: (events) => seen.push(...throttles(events)) });
  const closed = new Promise<void>((resolve) => first.onClose(() => resolve()));
  await admin.command("mev", "throttle", { throttle_pct: 10 });
  await waitFor("the first ack through the relay", () => seen.some((s) => s.pct === 10));

  await proxy.cut();
  await closed;
  for (const pct of [20, 30, 40]) {
    const r = await admin.command("mev", "throttle", { throttle_pct: pct });
    assert.equal(r.outcome?.agentId, "mev-1");
  }
  await proxy.restore();

  // No request: the reopening a command's wait makes. It resumes after the last ack seen.
  const second = await client.realtime();
  const replayed: { seq: bigint; pct: number }[] = [];
  second.listen({ onEvents: (events) => replayed.push(...throttles(events)) });
  await waitFor("the acks published during the outage", () => replayed.some((s) => s.pct === 40));
  assert.deepEqual(
    replayed.map((s) => s.pct),
    [20, 30, 40],
    "every ack from the outage, in order, none before it",
  );
  const last = seen.find((s) => s.pct === 10)!.seq;
  assert.deepEqual(
    replayed.map((s) => s.seq),
    [last + 1n, last + 2n, last + 3n],
    "seqs continue from the last one seen",
  );
});
