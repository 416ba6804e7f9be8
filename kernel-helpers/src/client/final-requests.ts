import { ControlRequest_State, type ControlRequest, type Event } from "@mevlab/proto";
import { TimeoutError } from "../errors";

const RECENT = 2_000;

/**
 * The final records of recent requests, as the realtime connection delivers them, and whoever waits
 * for one: a record that arrives before its waiter is kept (the last 2,000), so no ack is missed.
 */
export class FinalRequests {
  private readonly finished = new Map<string, ControlRequest>();
  private readonly waiters = new Map<string, (request: ControlRequest) => void>();

  wait(requestId: string, timeoutMs: number): Promise<ControlRequest> {
    const done = this.finished.get(requestId);
    if (done) return Promise.resolve(done);
    return new Promise<ControlRequest>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new TimeoutError(`request ${requestId} not final within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(requestId, (request) => {
        clearTimeout(timer);
        resolve(request);
      });
    });
  }

  /** Takes the final request records among `events`; pending ones are ignored. */
  onEvents(events: Event[]): void {
    for (const ev of events) {
      if (ev.payload.case !== "controlRequest") continue;
      const request = ev.payload.value;
      if (request.state === ControlRequest_State.pending) continue;
      remember(this.finished, request.requestId, request);
      const waiter = this.waiters.get(request.requestId);
      if (waiter) {
        this.waiters.delete(request.requestId);
        waiter(request);
      }
    }
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= RECENT) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(key, value);
}
