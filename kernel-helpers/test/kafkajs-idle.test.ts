// kafkajs' request queue with the idle-timer patch: no timer while nothing is pending or throttled,
// the check still armed for a throttled or pending request. On kafkajs' own class, not a copy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PATCHED_KAFKAJS_VERSION, patchKafkajsIdleTimer, type RequestQueueInternals } from "../src/bus/kafkajs-idle";

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internals, not in its types */
const RequestQueue = require("kafkajs/src/network/requestQueue") as new (
  options: Record<string, unknown>,
) => RequestQueueInternals & { maybeThrottle(ms: number): void; destroy(): void };
const { version } = require("kafkajs/package.json") as { version: string };
/* eslint-enable @typescript-eslint/no-require-imports */

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () =>
  new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:9092",
    logger: quiet,
  });

test("the installed kafkajs is the release the patch was written for", () => {
  // A new kafkajs may fix the loop itself, or move what the patch touches: look again then.
  assert.equal(version, PATCHED_KAFKAJS_VERSION);
});

test("before the patch, an idle queue arms a timer after every check (the 1 ms loop)", () => {
  // Runs first in this file's process, where nothing has applied the patch yet.
  const q = queue();
  q.checkPendingRequests();
  const armed = q.throttleCheckTimeoutId;
  q.destroy();
  assert.notEqual(armed, null);
});

test("patched: nothing pending and no throttle arms no timer", () => {
  assert.equal(patchKafkajsIdleTimer(), true);
  const q = queue();
  try {
    q.checkPendingRequests();
    assert.equal(q.throttleCheckTimeoutId, null);
    q.scheduleCheckPendingRequests();
    assert.equal(q.throttleCheckTimeoutId, null);
  } finally {
    q.destroy();
  }
});

test("patched: a throttle still ends in one check, and a pending request still arms one", async () => {
  assert.equal(patchKafkajsIdleTimer(), true);
  const q = queue();
  let checks = 0;
  const check = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks += 1;
    check();
  };
  try {
    // Throttled with nothing pending: one check when the throttle ends, then quiet.
    q.maybeThrottle(20);
    q.scheduleCheckPendingRequests();
    assert.notEqual(q.throttleCheckTimeoutId, null);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(checks, 1);
    assert.equal(q.throttleCheckTimeoutId, null, "no timer after the throttle's check");
    // A request that cannot go yet (throttled again): its check is armed (not run: it is a stub).
    q.pending.push({ correlationId: 1 });
    q.maybeThrottle(20);
    q.scheduleCheckPendingRequests();
    assert.notEqual(q.throttleCheckTimeoutId, null);
  } finally {
    q.destroy();
  }
});
