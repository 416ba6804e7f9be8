import {
  AckOutcome,
  AgentOutcomeSchema,
  ControlRequestSchema,
  ControlRequest_State as State,
  create,
  fromWireJson,
  toWireJson,
  type AgentOutcome,
  type ControlAck,
  type ControlRequest,
  type JsonValue,
  type MessageInitShape,
} from "@mevlab/proto";
import { JournalWriter, replayJournal } from "../journal";

export type NewRequest = Omit<
  MessageInitShape<typeof ControlRequestSchema>,
  "state" | "outcomes" | "completedAt" | "schemaVersion" | "$typeName"
> & { requestId: string; expectedAgents: string[] };

const KEEP = 20_000;

/** A journal line for one agent's answer: the outcome (the contract's JSON) and the request's state after it. */
interface AckLine {
  request_id: string;
  ack: JsonValue;
  state: string;
  reason: string;
  completed_at: string;
}

/**
 * The request records: pending until every expected agent has acked (or the timeout), then final.
 * Each change is appended to a JSONL file — the whole record when it is created or times out, the
 * agent's outcome for each ack — so a restarted control plane still resolves the requests that were
 * pending from the acks it reads back. A record is never changed once pushed: each change is a new
 * record (shallow copy), so what a client is sent later is what was true when it was pushed.
 */
export class RequestTracker {
  private readonly requests = new Map<string, ControlRequest>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Created, journaled, not pushed yet. */
  private readonly unannounced = new Set<string>();
  private readonly journalFile: JournalWriter;

  constructor(
    private readonly opts: {
      file: string;
      timeoutMs: number;
      onChange: (request: ControlRequest) => void;
      /**
       * Flush the journal to the disk (default true): each line is covered by an fdatasync on the
       * thread pool that starts when it is written (one for a burst of lines), so the control loop
       * never waits for the disk; the command's audit record is the one synced before it is published.
       */
      fsync?: boolean;
      /** Where a repaired journal is reported. */
      log?: (line: string) => void;
    },
  ) {
    this.load();
    const log = opts.log ?? ((l: string) => process.stderr.write(`control-plane: ${l}\n`));
    this.journalFile = new JournalWriter(opts.file, {
      sync: (opts.fsync ?? true) ? "group" : "none",
      onSyncError: (err) => log(`${opts.file}: fdatasync failed (${err.message}): the last lines may not be on disk`),
    });
  }

  /**
   * Records a new request. It is journaled and its pending record pushed once the code that created
   * it yields: the command is on its way to the agents by then (on the local bus its deliveries are
   * written to the agents' sockets without a pause), and it is still before the control plane
   * answers the request and before any ack of it is read. Both always precede any change of it.
   */
  create(init: NewRequest): ControlRequest {
    const request = create(ControlRequestSchema, { ...init, schemaVersion: 1, state: State.pending });
    this.remember(request);
    this.arm(request.requestId, this.opts.timeoutMs);
    this.unannounced.add(request.requestId);
    queueMicrotask(() => this.announce(request));
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

  /**
   * Records one agent's ack; finalises the request when every expected agent has answered. Returns
   * why an ack is left out: one from an agent the request did not expect (when it expected some), or
   * of another module, counts for nothing, so a forged or stray ack can neither answer nor stall it.
   */
  onAck(ack: ControlAck): "unexpected_agent" | undefined {
    const prev = this.requests.get(ack.requestId);
    if (!prev || prev.outcomes.some((o) => o.agentId === ack.agentId)) return undefined;
    const expected = prev.expectedAgents.length === 0 || prev.expectedAgents.includes(ack.agentId);
    if (!expected || !prev.modules.includes(ack.module)) return "unexpected_agent";
    this.announce(prev);
    const outcome: AgentOutcome = {
      $typeName: "mevlab.v1.AgentOutcome",
      agentId: ack.agentId,
      outcome: ack.outcome,
      reason: ack.reason,
      at: ack.ts,
      state: ack.state,
      policyVersion: ack.policyVersion,
      throttlePct: ack.throttlePct,
      modelId: ack.modelId,
    };
    let request: ControlRequest = { ...prev, outcomes: [...prev.outcomes, outcome] };
    if (request.state === State.pending) {
      const final = aggregate(request);
      if (final !== undefined)
        request = this.finish(request, final, request.outcomes.find((o) => o.reason)?.reason ?? "");
    }
    this.requests.set(request.requestId, request);
    // Pushed first: the ack itself is durable on the bus, and a control plane that stops before the
    // line below is written reads it again (its position is committed only after this returns).
    this.opts.onChange(request);
    this.journal(ackLine(request, outcome));
    return undefined;
  }

  /** Stops the timeouts; the journal is on disk when this resolves. */
  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.journalFile.close();
  }

  /** Journals and pushes a created request, once. */
  private announce(request: ControlRequest): void {
    if (!this.unannounced.delete(request.requestId)) return;
    this.persist(request);
    this.opts.onChange(request);
  }

  private finish(request: ControlRequest, state: State, reason: string): ControlRequest {
    clearTimeout(this.timers.get(request.requestId));
    this.timers.delete(request.requestId);
    return { ...request, state, reason, completedAt: BigInt(Date.now()) };
  }

  private arm(requestId: string, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(requestId);
      const prev = this.requests.get(requestId);
      if (!prev || prev.state !== State.pending) return;
      this.announce(prev);
      const missing = prev.expectedAgents.filter((a) => !prev.outcomes.some((o) => o.agentId === a));
      const none = prev.expectedAgents.length === 0 && prev.outcomes.length === 0;
      const request = this.finish(
        prev,
        State.timeout,
        none ? "no live agent of the module when it was sent" : `no ack from ${missing.join(", ")}`,
      );
      this.requests.set(requestId, request);
      this.persist(request);
      this.opts.onChange(request);
    }, ms);
    timer.unref();
    this.timers.set(requestId, timer);
  }

  private remember(request: ControlRequest): void {
    this.requests.set(request.requestId, request);
    if (this.requests.size > KEEP) {
      const oldest = this.requests.keys().next().value;
      if (oldest !== undefined) this.requests.delete(oldest);
    }
  }

  private persist(request: ControlRequest): void {
    this.journal(toWireJson(ControlRequestSchema, request));
  }

  private journal(line: unknown): void {
    this.journalFile.append(JSON.stringify(line));
  }

  /**
   * Whole records replace what was known of a request; ack lines add an outcome and set the state.
   * Pending requests get a fresh timeout to collect the acks. A torn last line is cut off (a crash
   * while it was written: the request it was about is still held as its previous line left it).
   */
  private load(): void {
    replayJournal(this.opts.file, {
      log: this.opts.log ?? ((l) => process.stderr.write(`control-plane: ${l}\n`)),
      apply: (line) => {
        if (isAckLine(line)) {
          const request = this.requests.get(line.request_id);
          if (request) this.requests.set(request.requestId, withAckLine(request, line));
          return;
        }
        const request = fromWireJson(ControlRequestSchema, line);
        this.requests.delete(request.requestId);
        this.remember(request);
      },
    });
    for (const r of this.requests.values()) if (r.state === State.pending) this.arm(r.requestId, this.opts.timeoutMs);
  }
}

function ackLine(request: ControlRequest, o: AgentOutcome): AckLine {
  return {
    request_id: request.requestId,
    ack: toWireJson(AgentOutcomeSchema, o),
    state: State[request.state],
    reason: request.reason,
    completed_at: request.completedAt.toString(),
  };
}

function isAckLine(line: JsonValue): line is JsonValue & AckLine {
  return typeof line === "object" && line !== null && !Array.isArray(line) && "ack" in line;
}

function withAckLine(request: ControlRequest, line: AckLine): ControlRequest {
  const outcome = fromWireJson(AgentOutcomeSchema, line.ack);
  if (request.outcomes.some((o) => o.agentId === outcome.agentId)) return request;
  return {
    ...request,
    outcomes: [...request.outcomes, outcome],
    state: State[line.state as keyof typeof State],
    reason: line.reason,
    completedAt: BigInt(line.completed_at),
  };
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
