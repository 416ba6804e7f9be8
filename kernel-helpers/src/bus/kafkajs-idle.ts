/**
 * kafkajs 2.2.4 (the latest release) re-arms a timer every time its request queue has looked for
 * pending requests, even when none is pending and nothing is throttled: `throttledUntil` starts at
 * -1, the delay comes out negative (1 ms), and every broker connection of every client wakes about
 * a thousand times a second for nothing (kafkajs issues #1556 and #1704, not fixed upstream). On
 * the embedded Kafka stack an idle agent spent 45–48 ms of CPU a second (14–19 patched) and the
 * control plane 73 (40), on two cores shared with the broker and the control loop.
 *
 * With nothing pending and no throttle there is nothing to look at later: a new request is sent at
 * once or queued, and queueing arms its own check; a completed request checks the queue itself. So
 * the check is armed only for a pending request or an active throttle, as kafkajs intends. Applied
 * once per process, to the release whose code it was written against, by the processes that own a
 * bus (mevlab control-plane and mevlab agent); importing the library changes nothing in kafkajs.
 */
export const PATCHED_KAFKAJS_VERSION = "2.2.4";

/** What the patch touches of kafkajs' RequestQueue (src/network/requestQueue). */
export interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' own retry interval for pending requests while its in-flight limit is reached. */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

let applied: boolean | undefined;

/** Whether the kafkajs in use is the release the patches here were written against. */
export function isPatchedKafkajsRelease(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' version, not in its types
  const { version } = require("kafkajs/package.json") as { version: string };
  return version === PATCHED_KAFKAJS_VERSION;
}

/** Patches kafkajs' request queue (see above); true when the patch is in place. */
export function patchKafkajsIdleTimer(): boolean {
  if (applied !== undefined) return applied;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' internals, not in its types
  const RequestQueue = require("kafkajs/src/network/requestQueue") as { prototype: RequestQueueInternals };
  applied = isPatchedKafkajsRelease() && typeof RequestQueue.prototype.scheduleCheckPendingRequests === "function";
  if (!applied) return false;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals): void {
    if (this.throttleCheckTimeoutId) return;
    let delay = this.throttledUntil - Date.now();
    if (this.pending.length > 0) delay = delay > 0 ? delay : CHECK_PENDING_REQUESTS_INTERVAL;
    else if (delay <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
  return true;
}
