import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import {
  AckOutcome,
  ControlRequestSchema,
  ControlRequest_State as State,
  create,
  fromWireJson,
  toWireJson,
  type ControlAck,
  type ControlRequest,
  type JsonValue,
  type MessageInitShape,
} from "@mevlab/proto";

export type NewRequest = Omit<
  MessageInitShape<typeof ControlRequestSchema>,
  "state" | "outcomes" | "completedAt" | "schemaVersion" | "$typeName"
> & { requestId: string; expectedAgents: string[] };

const KEEP = 20_000;

/**
 * The request records: pending until every expected agent has acked (or the timeout), then final.
 * Each change is appended to a JSONL file, so a restarted control plane still resolves the requests
 * that were pending from the acks it reads back.
 */
export class RequestTracker {
  private readonly requests = new Map<string, ControlRequest>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly fd: number;

  constructor(
    private readonly opts: {
      file: string;
      timeoutMs: number;
      onChange: (request: ControlRequest) => void;
    },
  ) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o700 });
    this.load();
    this.fd = openSync(opts.file, "a", 0o600);
  }

  create(init: NewRequest): ControlRequest {
    const request = create(ControlRequestSchema, { ...init, schemaVersion: 1, state: State.pending });
    this.remember(request);
    this.arm(request, this.opts.timeoutMs);
    this.persist(request);
    this.opts.onChange(request);
    return request;
  }

  /** How many requests are held, per state name. */
  countByState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests.values()) {
      const name = State[r.state];
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }

  get(requestId: string): ControlRequest | undefined {
    return this.requests.get(requestId);
  }

  /** Records one agent's ack; finalises the request when every expected agent has answered. */
  onAck(ack: ControlAck): void {
    const request = this.requests.get(ack.requestId);
    if (!request || request.outcomes.some((o) => o.agentId === ack.agentId)) return;
    request.outcomes.push({
      $typeName: "mevlab.v1.AgentOutcome",
      agentId: ack.agentId,
      outcome: ack.outcome,
      reason: ack.reason,
      at: ack.ts,
      state: ack.state,
      policyVersion: ack.policyVersion,
      throttlePct: ack.throttlePct,
    });
    if (request.state === State.pending) {
      const final = aggregate(request);
      if (final !== undefined) this.finish(request, final, request.outcomes.find((o) => o.reason)?.reason ?? "");
    }
    this.persist(request);
    this.opts.onChange(request);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    closeSync(this.fd);
  }

  private finish(request: ControlRequest, state: State, reason: string): void {
    request.state = state;
    request.reason = reason;
    request.completedAt = BigInt(Date.now());
    clearTimeout(this.timers.get(request.requestId));
    this.timers.delete(request.requestId);
  }

  private arm(request: ControlRequest, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(request.requestId);
      if (request.state !== State.pending) return;
      const missing = request.expectedAgents.filter((a) => !request.outcomes.some((o) => o.agentId === a));
      const none = request.expectedAgents.length === 0 && request.outcomes.length === 0;
      this.finish(
        request,
        State.timeout,
        none ? "no live agent of the module when it was sent" : `no ack from ${missing.join(", ")}`,
      );
      this.persist(request);
      this.opts.onChange(request);
    }, ms);
    timer.unref();
    this.timers.set(request.requestId, timer);
  }

  private remember(request: ControlRequest): void {
    this.requests.set(request.requestId, request);
    if (this.requests.size > KEEP) {
      const oldest = this.requests.keys().next().value;
      if (oldest !== undefined) this.requests.delete(oldest);
    }
  }

  private persist(request: ControlRequest): void {
    writeSync(this.fd, JSON.stringify(toWireJson(ControlRequestSchema, request)) + "\n");
  }

  /** The last line of each request wins; pending ones get a fresh timeout to collect the acks. */
  private load(): void {
    if (!existsSync(this.opts.file)) return;
    for (const line of readFileSync(this.opts.file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      const request = fromWireJson(ControlRequestSchema, JSON.parse(line) as JsonValue);
      this.requests.delete(request.requestId);
      this.remember(request);
    }
    for (const r of this.requests.values()) if (r.state === State.pending) this.arm(r, this.opts.timeoutMs);
  }
}

/** The final state once every expected agent answered (or the first answer when none was expected). */
export function aggregate(request: ControlRequest): State | undefined {
  const answered = new Set(request.outcomes.map((o) => o.agentId));
  if (request.outcomes.length === 0) return undefined;
  if (!request.expectedAgents.every((a) => answered.has(a))) return undefined;
  const outcomes = request.outcomes.map((o) => o.outcome);
  if (outcomes.includes(AckOutcome.rejected)) return State.rejected;
  if (outcomes.includes(AckOutcome.expired)) return State.expired;
  if (outcomes.every((o) => o === AckOutcome.duplicate)) return State.duplicate;
  return State.applied;
}
