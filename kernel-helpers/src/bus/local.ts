import { BusError } from "../errors";
import {
  keyFilter,
  oneByOne,
  publishInOrder,
  type BatchHandler,
  type Bus,
  type BusRecord,
  type OutgoingRecord,
  type RecordHandler,
  type SubscribeOptions,
  type Subscription,
} from "./bus";

const DEFAULT_RETAIN = 10_000;
const MAX_BATCH = 500;

interface Member {
  handler: BatchHandler;
  accept?: (key: string) => boolean;
  queue: BusRecord[];
  /** The batch its handler has: the group's to handle again if the member leaves before it is done. */
  inflight: BusRecord[];
  draining: boolean;
  closed: boolean;
}

interface Group {
  /** Next offset to deliver, per topic. */
  positions: Map<string, number>;
  members: Member[];
}

/**
 * The in-process bus of the embedded default. Keeps the last `retain` records of each topic so
 * that a group subscribing from the beginning (a restarting agent recovering its policy) sees them.
 * Within a group a record goes to one member, chosen by key, so order per key is kept.
 *
 * As on Kafka, a record counts as consumed once its member's handler is done with it: a member that
 * leaves (its subscription closed, or replaced) hands what it had not handled to the group's other
 * members, or, when none is left, the group resumes from there. An `exclusive` member replaces every
 * member the group has, as a restarted process's earlier members are removed on Kafka: an agent
 * started again while a frozen run of it still holds the link gets the commands at once.
 */
export class LocalBus implements Bus {
  readonly kind = "local";
  private readonly logs = new Map<string, { base: number; records: BusRecord[] }>();
  private readonly groups = new Map<string, Group>();
  private closed = false;

  constructor(private readonly retain = DEFAULT_RETAIN) {}

  async publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new BusError("bus is closed", { retriable: false, topic });
    const log = this.log(topic);
    for (const r of records) {
      const offset = log.base + log.records.length;
      const record: BusRecord = {
        topic,
        key: r.key,
        value: r.value,
        headers: r.headers ?? {},
        offset: String(offset),
        timestamp: Date.now(),
      };
      log.records.push(record);
      if (log.records.length > this.retain) {
        log.records.shift();
        log.base += 1;
      }
      this.dispatch(record, offset);
    }
  }

  subscribe(options: SubscribeOptions, handler: RecordHandler): Promise<Subscription> {
    return this.subscribeBatches(options, oneByOne(handler));
  }

  async subscribeBatches(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    if (this.closed) throw new BusError("bus is closed", { retriable: false });
    let group = this.groups.get(options.group);
    const member: Member = {
      handler,
      accept: keyFilter(options.keys),
      queue: [],
      inflight: [],
      draining: false,
      closed: false,
    };
    if (!group) {
      group = { positions: new Map(), members: [] };
      this.groups.set(options.group, group);
    }
    const replaced = options.exclusive ? group.members.splice(0) : [];
    group.members.push(member);
    // What the replaced members had not handled comes first: it is older than anything below.
    for (const old of replaced) this.leave(group, old);
    for (const topic of options.topics) {
      const log = this.log(topic);
      const end = log.base + log.records.length;
      // A group that comes back resumes where it stopped, like a committed offset on Kafka.
      const start = Math.max(group.positions.get(topic) ?? (options.fromBeginning ? log.base : end), log.base);
      group.positions.set(topic, end);
      for (const record of log.records.slice(start - log.base)) this.deliver(group, record);
    }
    const g = group;
    return { close: async () => this.leave(g, member) };
  }

  async snapshot(topic: string): Promise<BusRecord[]> {
    return [...this.log(topic).records];
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const g of this.groups.values()) for (const m of g.members) m.closed = true;
    this.groups.clear();
  }

  private log(topic: string): { base: number; records: BusRecord[] } {
    let log = this.logs.get(topic);
    if (!log) {
      log = { base: 0, records: [] };
      this.logs.set(topic, log);
    }
    return log;
  }

  private dispatch(record: BusRecord, offset: number): void {
    for (const group of this.groups.values()) {
      const pos = group.positions.get(record.topic);
      if (pos === undefined || group.members.length === 0) continue;
      group.positions.set(record.topic, offset + 1);
      this.deliver(group, record);
    }
  }

  /** Takes a member out of its group and gives the group what it had not handled. */
  private leave(group: Group, member: Member): void {
    if (member.closed) return;
    member.closed = true;
    group.members = group.members.filter((m) => m !== member);
    const unhandled = [...member.inflight, ...member.queue];
    member.inflight = [];
    member.queue = [];
    if (group.members.length > 0) {
      for (const record of unhandled) this.deliver(group, record);
      return;
    }
    // Nobody left to take them: the group's next member starts there, like an uncommitted offset.
    for (const record of unhandled) {
      const pos = group.positions.get(record.topic);
      const offset = Number(record.offset);
      if (pos === undefined || offset < pos) group.positions.set(record.topic, offset);
    }
  }

  private deliver(group: Group, record: BusRecord): void {
    const member = group.members[hashKey(record.key) % group.members.length];
    if (member.accept && !member.accept(record.key)) return;
    member.queue.push(record);
    if (!member.draining) void this.drain(member);
  }

  private async drain(member: Member): Promise<void> {
    member.draining = true;
    while (member.queue.length > 0 && !member.closed) {
      const batch = member.queue.splice(0, MAX_BATCH);
      member.inflight = batch;
      try {
        const output = await member.handler(batch);
        if (output && output.length > 0) await publishInOrder(this, output);
      } catch (err) {
        // A handler that throws must not wedge the subscription; the failure is the handler's to report.
        process.emitWarning(`mevlab local bus: handler for ${batch[0].topic} failed: ${String(err)}`);
      }
      if (member.inflight === batch) member.inflight = [];
    }
    member.draining = false;
  }
}

function hashKey(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}
