import { randomUUID } from "node:crypto";
import {
  AckOutcome,
  Action,
  AgentState,
  AgentStatusSchema,
  ControlAckSchema,
  Module,
  TOPICS,
  create,
  decode,
  type ControlAck,
  type ControlCommand,
  type Policy,
} from "@mevlab/proto";
import {
  SkippedRecords,
  describe,
  messageRecords,
  publishMessage,
  schemaVersionError,
  SignatureVerifier,
  sealAck,
  sealStatus,
  type Bus,
  type BusRecord,
  type Subscription,
  type TopicRecord,
  type TrustedKeys,
} from "@mevlab/kernel-helpers";
import { rng } from "./simulate";
import { StateFile } from "./persist";
import { AgentModels, type ModelSource, type Staged } from "./model";
import { Trader } from "./trader";
import {
  DedupeWindow,
  adoptPolicy,
  applyCommand,
  initialRuntime,
  splitKills,
  type AgentRuntime,
  type Decision,
} from "./state";

export interface AgentOptions {
  module: "arbitrage" | "mev";
  agentId: string;
  bus: Bus;
  /**
   * The control plane's public keys (from the agent's credential): only commands and policies signed
   * by one of them are applied; anything else is answered `rejected` with the reason.
   */
  trust: TrustedKeys;
  /** The agent's own key (from its credential): it seals its acks and heartbeats (`agent_mac`). */
  agentKey: Uint8Array;
  /** Simulated opportunities per second while running (before throttling). 0 = none. */
  rate?: number;
  startStopped?: boolean;
  seed?: number;
  /** Where the runtime and dedupe window survive a restart; none keeps them in memory only. */
  stateFile?: string;
  /** Stop new work when the agent has not heard its own heartbeat back from the bus for this long. */
  busSilenceStopMs?: number;
  /** Where the models of promoted policies come from (the control plane's store); none = no models. */
  models?: ModelSource;
  log?: (line: string) => void;
}

const HEARTBEAT_MS = 1_000;
const METRICS_MS = 1_000;
const TICK_MS = 100;
/** A recovered policy's model that could not be loaded is tried again this often; no trading meanwhile. */
const MODEL_RETRY_MS = 2_000;
export const AGENT_VERSION = "0.1.0";

/** A reference agent: obeys the control contract and simulates a market. It never trades. */
export class Agent {
  readonly runtime: AgentRuntime;
  private readonly seen: DedupeWindow;
  private readonly store?: StateFile;
  private lastHeard = Date.now();
  private readonly module: Module;
  private readonly startedAt = Date.now();
  /** Tells this run's heartbeats apart from those of the run before it. */
  private readonly bootId = randomUUID();
  private readonly verifier: SignatureVerifier;
  private sub?: Subscription;
  private readonly subs: Subscription[] = [];
  private timers: NodeJS.Timeout[] = [];
  /** Counted inside the agent, for the fault tests: how many commands it applied. */
  appliedCount = 0;
  /** Records it skipped unread (a schema major it does not read), per topic and reason. */
  readonly skipped = new SkippedRecords();
  readonly models: AgentModels;
  readonly trader: Trader;
  /** False until the models of the policy it recovered run: it does not trade before. */
  private modelsReady = false;

  constructor(private readonly opts: AgentOptions) {
    this.store = opts.stateFile ? new StateFile(opts.stateFile) : undefined;
    this.store?.lock();
    const saved = this.store?.load();
    this.runtime = saved?.runtime ?? initialRuntime(opts.startStopped ?? false);
    this.seen = new DedupeWindow(10_000, saved?.seen ?? []);
    this.module = opts.module === "mev" ? Module.mev : Module.arbitrage;
    this.verifier = new SignatureVerifier(opts.trust);
    this.models = new AgentModels(opts.module, opts.models);
    this.trader = new Trader({
      module: opts.module,
      agentId: opts.agentId,
      bus: opts.bus,
      random: rng(opts.seed ?? Date.now()),
      models: this.models,
      log: (l) => this.log(l),
    });
  }

  async start(): Promise<void> {
    await this.recoverPolicy();
    await this.recoverModels();
    if (this.opts.busSilenceStopMs !== undefined) this.subs.push(await this.listenToOwnHeartbeat());
    this.sub = await this.opts.bus.subscribeBatches(
      // Only this module's commands travel to the agent (it checks the key again). The group is this
      // agent's alone: what a crashed run of it left there is removed, so a restart joins at once.
      {
        topics: [TOPICS.controlCommands.name],
        group: `agent-${this.opts.agentId}`,
        keys: [this.opts.module],
        exclusive: true,
      },
      (records) => this.onCommands(records),
    );
    await this.heartbeat();
    this.timers.push(setInterval(() => void this.heartbeat(), HEARTBEAT_MS));
    this.timers.push(setInterval(() => void this.trader.reportMetrics(), METRICS_MS));
    const rate = this.opts.rate ?? 0;
    if (rate > 0) this.timers.push(setInterval(() => void this.simulate((rate * TICK_MS) / 1000), TICK_MS));
    this.log(`agent ${this.opts.agentId} (${this.opts.module}) on the ${this.opts.bus.kind} bus`);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.sub?.close();
    for (const s of this.subs.splice(0)) await s.close();
    await this.models.close();
    this.store?.close();
  }

  /**
   * The models of the policy it runs (recovered or saved), loaded before it trades: from its cache
   * beside the state file, else the store. If they cannot be loaded it keeps trying and does not trade.
   */
  private async recoverModels(): Promise<void> {
    const rt = this.runtime;
    if (!rt.modelId && !rt.shadow) {
      this.modelsReady = true;
      return;
    }
    try {
      this.models.commit(await this.models.stage(rt.modelId, rt.shadow?.modelId));
      this.modelsReady = true;
      this.log(`agent ${this.opts.agentId}: running model ${rt.modelId.slice(0, 12) || "(built-in)"}`);
    } catch (err) {
      this.log(`agent ${this.opts.agentId}: the policy's model is not loaded, not trading: ${describe(err)}`);
      const retry = setTimeout(() => void this.recoverModels(), MODEL_RETRY_MS);
      this.timers.push(retry);
    }
  }

  /** The latest promoted policy of this module, from the compacted topic, before anything else. */
  private async recoverPolicy(): Promise<void> {
    const records = await this.opts.bus.snapshot(TOPICS.policies.name);
    const mine = records.filter((r) => r.key === this.opts.module && this.readable(r));
    const policy = this.latestSigned(mine);
    // Only a version newer than the one it ran: later throttle commands stay in force.
    if (policy && policy.version > this.runtime.policyVersion) {
      adoptPolicy(this.runtime, policy);
      this.log(`agent ${this.opts.agentId}: recovered policy v${policy.version}`);
    }
  }

  /** The last policy of these records that is this module's and signed by a trusted key; others are logged. */
  private latestSigned(records: readonly BusRecord[]): Policy | undefined {
    for (let i = records.length - 1; i >= 0; i--) {
      let policy: Policy;
      try {
        policy = decode(TOPICS.policies.schema, records[i].value);
      } catch (err) {
        this.log(`agent ${this.opts.agentId}: unreadable policy at ${records[i].offset}: ${describe(err)}`);
        continue;
      }
      const bad = this.verifier.policy(policy) ?? (policy.module === this.module ? undefined : "another module's");
      if (!bad) return policy;
      this.log(`agent ${this.opts.agentId}: policy v${policy.version} on ${TOPICS.policies.name} ignored: ${bad}`);
    }
    return undefined;
  }

  private listenToOwnHeartbeat(): Promise<Subscription> {
    return this.opts.bus.subscribe(
      {
        topics: [TOPICS.agentStatus.name],
        group: `agent-${this.opts.agentId}-heartbeat-${Date.now()}`,
        keys: [this.opts.agentId],
        exclusive: true,
      },
      async (record) => {
        if (record.key === this.opts.agentId) this.lastHeard = Date.now();
      },
    );
  }

  /** False while the bus has been silent for longer than the configured limit. */
  private busHeard(): boolean {
    const limit = this.opts.busSilenceStopMs;
    return limit === undefined || Date.now() - this.lastHeard <= limit;
  }

  /**
   * Everything already delivered is looked at together, so that a kill goes first. Each command is
   * applied (and journaled) in turn; the acks go back as the batch's output, which the bus publishes
   * before it commits the batch. No extra status: each ack carries the agent's new state.
   */
  private async onCommands(records: BusRecord[]): Promise<TopicRecord[]> {
    const commands: ControlCommand[] = [];
    for (const r of records) {
      if (r.key !== this.opts.module || !this.readable(r)) continue;
      try {
        commands.push(decode(TOPICS.controlCommands.schema, r.value));
      } catch (err) {
        this.log(`bad command at ${r.offset}: ${describe(err)}`);
      }
    }
    const acks: { key: string; message: ControlAck }[] = [];
    for (const cmd of splitKills(commands).flat()) acks.push({ key: this.opts.module, message: await this.apply(cmd) });
    // Not published here: if the bus cannot publish them, the batch is not committed and its
    // redelivery is answered `duplicate` (the effects are on disk), which acks the commands after all.
    return messageRecords(TOPICS.controlAcks, acks);
  }

  /** False for a record of a schema major this agent does not read: it is counted, logged and skipped. */
  private readable(record: BusRecord): boolean {
    const err = schemaVersionError(record);
    if (!err) return true;
    const n = this.skipped.note(record.topic, "schema_version");
    if (n !== undefined) this.log(`agent ${this.opts.agentId}: ${err.message} (${n} so far)`);
    return false;
  }

  private async apply(cmd: ControlCommand): Promise<ControlAck> {
    // Before the dedupe window: a forged command must not make the real one with its id a duplicate.
    const forged = this.verifier.command(cmd);
    if (forged) {
      this.log(`agent ${this.opts.agentId}: command ${cmd.requestId || "(no id)"} rejected: ${forged}`);
      return this.ack(cmd, { outcome: AckOutcome.rejected, reason: forged });
    }
    const staged = await this.stage(cmd);
    if (typeof staged === "string") {
      this.seen.add(cmd.requestId);
      this.store?.record(cmd.requestId, this.runtime, () => this.seen.toArray());
      this.log(`agent ${this.opts.agentId}: policy ${cmd.requestId} rejected: ${staged}`);
      return this.ack(cmd, { outcome: AckOutcome.rejected, reason: staged });
    }
    const decision = applyCommand(this.runtime, cmd, this.seen, Date.now(), this.opts.module);
    if (staged && decision.outcome === AckOutcome.applied) {
      this.models.commit(staged);
      this.modelsReady = true;
    } else if (staged) {
      this.models.discard(staged);
    }
    if (decision.outcome === AckOutcome.applied) this.appliedCount += 1;
    // On disk before the ack: once acked, a replay of this request is answered `duplicate`.
    if (decision.outcome !== AckOutcome.duplicate) {
      this.store?.record(cmd.requestId, this.runtime, () => this.seen.toArray());
    }
    return this.ack(cmd, decision);
  }

  /**
   * A new policy's models, loaded and warm while the agent trades on, before the policy is applied;
   * a string says why they cannot run (the ack's reason; nothing changes). Undefined: nothing to stage.
   */
  private async stage(cmd: ControlCommand): Promise<Staged | string | undefined> {
    const policy = cmd.action === Action.policy ? cmd.args?.policy : undefined;
    if (!policy || !cmd.requestId || this.seen.has(cmd.requestId)) return undefined;
    try {
      return await this.models.stage(policy.modelId, policy.shadow?.modelId);
    } catch (err) {
      return describe(err);
    }
  }

  private ack(cmd: ControlCommand, decision: Decision): ControlAck {
    const ack = create(ControlAckSchema, {
      schemaVersion: 1,
      ts: BigInt(Date.now()),
      module: this.module,
      requestId: cmd.requestId,
      agentId: this.opts.agentId,
      outcome: decision.outcome,
      reason: decision.reason,
      policyVersion: this.runtime.policyVersion,
      state: this.runtime.state,
      throttlePct: this.runtime.throttlePct,
      action: cmd.action,
      modelId: this.runtime.modelId,
    });
    return sealAck(ack, this.opts.agentKey);
  }

  private async heartbeat(): Promise<void> {
    const status = create(AgentStatusSchema, {
      schemaVersion: 1,
      ts: BigInt(Date.now()),
      agentId: this.opts.agentId,
      module: this.module,
      state: this.runtime.state,
      throttlePct: this.runtime.throttlePct,
      policyVersion: this.runtime.policyVersion,
      modelId: this.runtime.modelId,
      startedAt: BigInt(this.startedAt),
      commandsApplied: this.runtime.commandsApplied,
      version: AGENT_VERSION,
      bootId: this.bootId,
    });
    sealStatus(status, this.opts.agentKey);
    try {
      await publishMessage(this.opts.bus, TOPICS.agentStatus, this.opts.agentId, status);
    } catch (err) {
      this.log(`heartbeat not sent: ${describe(err)}`);
    }
  }

  private async simulate(expected: number): Promise<void> {
    const rt = this.runtime;
    if (rt.state !== AgentState.running && rt.state !== AgentState.throttled) return;
    if (!this.busHeard() || !this.modelsReady) return;
    await this.trader.tick(rt, expected, TICK_MS);
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => process.stderr.write(l + "\n")))(line);
  }
}
