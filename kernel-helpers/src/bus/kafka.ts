import { randomUUID } from "node:crypto";
import {
  AssignerProtocol,
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type KafkaConfig,
  type PartitionAssigner,
  type KafkaMessage,
  type LogEntry,
  type Message,
  type Producer,
} from "kafkajs";
import { ALL_TOPICS, type TopicSpec } from "@mevlab/proto";
import { BusError, describe } from "../errors";
import { patchKafkajsIdleTimer } from "./kafkajs-idle";
import { canRemoveGroupMembers, removeGroupMembers } from "./kafkajs-leave";
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

const COMMIT_INTERVAL_MS = 1_000;
/** How long a subscription retries reading its group's offsets while the broker says "try again". */
const PIN_RETRY_MS = 30_000;
/** A consumer kafkajs gave up on is started again after this, doubling up to RESTART_MAX_MS. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;

interface TopicOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  /** Topics to create when missing (single-node development: replication factor 1). */
  topics?: readonly TopicSpec[];
  replicationFactor?: number;
  /** Where kafkajs' own log lines go; errors only, by default to stderr. */
  log?: (line: string) => void;
}

/** Upper bound of one produce request's records, under the broker's default 1 MiB message.max.bytes. */
const MAX_REQUEST_BYTES = 512 * 1024;

/** The bus on Apache Kafka: idempotent producer with acks from all in-sync replicas. */
export class KafkaBus implements Bus {
  readonly kind = "kafka";
  private readonly kafka: Kafka;
  private producer?: Producer;
  private connecting?: Promise<Producer>;
  /** Open subscriptions, closed (with a final commit) by close(). */
  private readonly subscriptions = new Set<Subscription>();
  private readonly log: (line: string) => void;
  private readonly outbox: {
    topic: string;
    records: readonly OutgoingRecord[];
    resolve: () => void;
    reject: (err: Error) => void;
  }[] = [];
  private flushing = false;

  constructor(private readonly options: KafkaBusOptions) {
    patchKafkajsIdleTimer();
    const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
    this.log = log;
    const config: KafkaConfig = {
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.ERROR,
      logCreator: () => (entry: LogEntry) => {
        const detail = typeof entry.log.error === "string" ? `: ${entry.log.error}` : "";
        log(`kafkajs ${entry.namespace}: ${entry.log.message}${detail}`);
      },
      // About 25 s per retrier, as with the exponential waits before, but at most 1 s apart: with
      // waits growing to 12.8 s, a client resumed up to 17 s after its broker came back. (A publish
      // to a broker that stays away fails after about 45 s: the producer's retries wrap the
      // connection's.)
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 25 },
    };
    this.kafka = new Kafka(config);
  }

  /** Connects the producer and creates the contract's topics where missing. */
  async connect(): Promise<void> {
    await this.ensureTopics(this.options.topics ?? ALL_TOPICS);
    await this.getProducer();
  }

  /**
   * The idempotent producer allows one request in flight, so concurrent publishes would queue one
   * round trip each. Instead, what arrives while a request is in flight goes out together in the next.
   */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.outbox.push({ topic, records, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.outbox.length > 0) {
        // Whole publishes up to a byte budget per request: the broker refuses record batches over
        // its message.max.bytes (1 MiB by default).
        let take = 0;
        let bytes = 0;
        while (take < this.outbox.length && (take === 0 || bytes < MAX_REQUEST_BYTES)) {
          bytes += this.outbox[take].records.reduce((n, r) => n + r.value.byteLength + (r.key?.length ?? 0) + 64, 0);
          take += 1;
        }
        const batch = this.outbox.splice(0, take);
        const requests: Map<string, Message[]>[] = [];
        let current = new Map<string, Message[]>();
        let currentBytes = 0;
        for (const p of batch) {
          for (const r of p.records) {
            const size = r.value.byteLength + (r.key?.length ?? 0) + 64;
            if (currentBytes > 0 && currentBytes + size > MAX_REQUEST_BYTES) {
              requests.push(current);
              current = new Map();
              currentBytes = 0;
            }
            const list = current.get(p.topic) ?? [];
            list.push({
              key: r.key,
              value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
              headers: r.headers,
            });
            current.set(p.topic, list);
            currentBytes += size;
          }
        }
        if (currentBytes > 0) requests.push(current);
        try {
          const producer = await this.getProducer();
          for (const byTopic of requests) {
            await producer.sendBatch({
              acks: -1,
              topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
            });
          }
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) {
            p.reject(
              new BusError(`publish to ${p.topic} failed: ${describe(err)}`, {
                retriable: isRetriable(err),
                topic: p.topic,
                cause: err,
              }),
            );
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  subscribe(options: SubscribeOptions, handler: RecordHandler): Promise<Subscription> {
    return this.subscribeBatches(options, oneByOne(handler));
  }

  subscribeBatches(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    return this.consume(options, handler);
  }

  /**
   * kafkajs' auto-commit commits after every batch, a broker round trip (several ms here) before
   * the next fetch. Instead, offsets are noted once the handler's effect is done and committed every
   * second and on close: never before the effect; after a crash the last second is redelivered, which
   * the consumers' own idempotency (dedupe by request id) absorbs.
   */
  private async consume(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const accept = keyFilter(options.keys);
    const newConsumer = (): Consumer => {
      const c = this.kafka.consumer({
        groupId: options.group,
        ...(accept ? { partitionAssigners: [keyedAssigner(options.keys ?? [])] } : {}),
        maxWaitTimeInMs: 100,
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        allowAutoTopicCreation: false,
        // kafkajs restarts a consumer that lost its broker; the restarted one joins as a new member,
        // which waited for the lost one's session to end (about 10 s after the broker was back).
        ...(options.exclusive
          ? {
              retry: {
                restartOnFailure: async () => {
                  await this.withAdmin(`members of ${options.group}`, (admin) =>
                    this.removeEarlierMembers(admin, options.group),
                  ).catch((err: unknown) => this.log(`${options.group}: ${describe(err)}`));
                  return true;
                },
              },
            }
          : {}),
      });
      c.on(c.events.CRASH, ({ payload }) => {
        if (!payload.restart && c === consumer) stopped(payload.error);
      });
      return c;
    };
    let consumer = newConsumer();
    const done = new Map<string, TopicOffset>();
    // Partitions the group has no committed offset for, with the topic's end before the group
    // joins: committed as the group's start once the consumer runs (see uncommittedEnds). Until
    // then the periodic commit waits, so that start never lands after a later position.
    let start: TopicOffset[] = [];
    let pinned = false;
    const commit = async (): Promise<void> => {
      if (!pinned || done.size === 0) return;
      const offsets = [...done.values()];
      done.clear();
      try {
        await consumer.commitOffsets(offsets);
      } catch (err) {
        // Tried again at the next tick, unless a later batch has moved the partition on meanwhile.
        for (const o of offsets) {
          const key = `${o.topic}/${o.partition}`;
          if (!done.has(key)) done.set(key, o);
        }
        throw err;
      }
    };
    const timer = setInterval(() => {
      commit().catch((err: unknown) => this.log(`commit for ${options.group} failed: ${describe(err)}`));
    }, COMMIT_INTERVAL_MS);
    timer.unref();
    // Offsets are resolved before the first fetch: from then on no new record is missed. The start
    // is committed then (the consumer must be running to commit).
    let failStart: (err: unknown) => void = () => undefined;
    const firstFetch = new Promise<void>((resolve, reject) => {
      failStart = reject;
      const off = consumer.on(consumer.events.FETCH, () => {
        off();
        (start.length > 0 ? consumer.commitOffsets(start) : Promise.resolve()).then(() => {
          pinned = true;
          resolve();
        }, reject);
      });
    });
    // Awaited below; a crash while the consumer is still starting must not count as unhandled meanwhile.
    firstFetch.catch(() => undefined);
    const join = async (c: Consumer): Promise<void> => {
      await c.connect();
      await c.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? false });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
          const wanted = accept ? records.filter((r) => accept(r.key)) : records;
          if (wanted.length > 0) {
            const output = await handler(wanted);
            // The handler's output is on the broker before the batch counts as done.
            if (output && output.length > 0) await publishInOrder(this, output);
          }
          for (const m of batch.messages) resolveOffset(m.offset);
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          done.set(`${batch.topic}/${batch.partition}`, {
            topic: batch.topic,
            partition: batch.partition,
            offset: next,
          });
          restartDelay = RESTART_MIN_MS;
          await heartbeat();
        },
      });
    };
    // kafkajs restarts its consumer after a retriable error only. After any other (a handler that
    // throws a TypeError, a publish of its output the broker refused for good) the consumer stayed
    // stopped, and nothing told the bus: the subscription went quiet for good. Now it is started
    // again from the group's committed position (the failed batch comes again: at least once, as
    // after a retriable error), after a wait that doubles up to RESTART_MAX_MS while it keeps failing.
    let live = false;
    let closed = false;
    let restartDelay = RESTART_MIN_MS;
    let restartTimer: NodeJS.Timeout | undefined;
    const stopped = (err: unknown): void => {
      if (!live) return failStart(err);
      if (closed || restartTimer) return;
      this.log(`${options.group}: the consumer stopped (${describe(err)}); starting it again in ${restartDelay} ms`);
      restartTimer = setTimeout(() => void restart(), restartDelay);
      restartDelay = Math.min(restartDelay * 2, RESTART_MAX_MS);
    };
    const restart = async (): Promise<void> => {
      restartTimer = undefined;
      if (closed) return;
      await consumer.disconnect().catch(() => undefined);
      const c = (consumer = newConsumer());
      try {
        await join(c);
      } catch (err) {
        if (c === consumer) stopped(err);
      }
    };
    try {
      // One admin session before joining, for both.
      if (options.exclusive || !options.fromBeginning) {
        start = await this.withAdmin(`offsets of ${options.group}`, async (admin) => {
          if (options.exclusive) await this.removeEarlierMembers(admin, options.group);
          return options.fromBeginning ? [] : this.uncommittedEnds(admin, options.group, options.topics);
        });
      }
      await join(consumer);
      await firstFetch;
      live = true;
    } catch (err) {
      clearInterval(timer);
      await consumer.disconnect().catch(() => undefined);
      throw new BusError(`subscribe to ${options.topics.join(", ")} failed: ${describe(err)}`, {
        retriable: isRetriable(err),
        cause: err,
      });
    }
    const subscription: Subscription = {
      close: async () => {
        closed = true;
        clearTimeout(restartTimer);
        clearInterval(timer);
        this.subscriptions.delete(subscription);
        // Commit while the group is still joined (kafkajs refuses after stop); a batch that
        // finishes after this is redelivered to the group's next member, which is harmless here.
        await commit().catch((err: unknown) => this.log(`final commit for ${options.group} failed: ${describe(err)}`));
        await consumer.stop();
        await consumer.disconnect();
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Runs `fn` with a connected admin client, again on retriable errors (a broker that is away or
   * still loading its group coordinator, say) for up to PIN_RETRY_MS, with a log line each time.
   */
  private async withAdmin<T>(what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const deadline = Date.now() + PIN_RETRY_MS;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
        return await fn(admin);
      } catch (err) {
        if (!isRetriable(err) || Date.now() + delay > deadline) throw err;
        this.log(`${what} not readable yet (${describe(err)}); retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
  }

  /**
   * A group with no committed offset starts at the end of the topic, and kafkajs looks that end up
   * again whenever the consumer rejoins (after a broker restart, say): a group that had not
   * committed yet would jump past everything published in between, and acknowledged commands would
   * never reach the agent. So the partitions with no committed offset are found before the group
   * joins, with the topic's end at that moment, and committed as the group's start once the consumer
   * runs: a rejoin then resumes from a committed position. A start taken before the join is never
   * after the consumer's own, so nothing is skipped; a record in between may be delivered twice
   * after a rejoin, which the consumers' dedupe absorbs.
   */
  private async uncommittedEnds(admin: Admin, group: string, topics: readonly string[]): Promise<TopicOffset[]> {
    const out: TopicOffset[] = [];
    for (const topic of topics) {
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const missing = new Set(
        (committed?.partitions ?? []).filter((p) => BigInt(p.offset) < 0n).map((p) => p.partition),
      );
      if (missing.size === 0) continue;
      for (const end of await admin.fetchTopicOffsets(topic)) {
        if (missing.has(end.partition)) out.push({ topic, partition: end.partition, offset: end.high });
      }
    }
    return out;
  }

  /**
   * Members of an exclusive group that an earlier run of this client (same client id) left behind.
   * A crashed process stays a member until its session times out, and the group does not take in a
   * new member before every known one has rejoined or timed out: a restarted agent or control plane
   * waited about 10 s to join. Done before an exclusive subscription joins and before kafkajs
   * restarts its consumer after losing the broker. Best effort: a retriable error is thrown for
   * withAdmin to retry; any other is logged, and the join waits for the session as before.
   */
  private async removeEarlierMembers(admin: Admin, group: string): Promise<void> {
    if (!canRemoveGroupMembers(this.kafka)) return;
    try {
      const { groups } = await admin.describeGroups([group]);
      const earlier = (groups[0]?.members ?? [])
        .filter((m) => m.clientId === this.options.clientId)
        .map((m) => m.memberId);
      if (earlier.length === 0) return;
      await removeGroupMembers(this.kafka, group, earlier);
      this.log(`${group}: removed ${earlier.length} member(s) left by an earlier run of ${this.options.clientId}`);
    } catch (err) {
      if (isRetriable(err)) throw err;
      this.log(`${group}: earlier members not removed (${describe(err)}); the join waits for their session to end`);
    }
  }

  /** Reads a topic from its start to the high watermark seen when called, with a throw-away group. */
  async snapshot(topic: string): Promise<BusRecord[]> {
    const admin = this.kafka.admin();
    let ends: Map<number, bigint>;
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    } catch (err) {
      throw new BusError(`snapshot of ${topic} failed: ${describe(err)}`, {
        retriable: isRetriable(err),
        topic,
        cause: err,
      });
    } finally {
      await admin.disconnect();
    }
    if (ends.size === 0) return [];
    const records: BusRecord[] = [];
    const consumer = this.kafka.consumer({ groupId: `snapshot-${topic}-${randomUUID()}`, maxWaitTimeInMs: 50 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("timed out after 30 s")), 30_000);
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              records.push(toRecord(topic, partition, message));
              const end = ends.get(partition);
              if (end !== undefined && BigInt(message.offset) + 1n >= end) ends.delete(partition);
              if (ends.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } catch (err) {
      throw new BusError(`snapshot of ${topic} failed: ${describe(err)}`, { retriable: true, topic, cause: err });
    } finally {
      await consumer.disconnect();
    }
    return records.sort((a, b) => a.timestamp - b.timestamp);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    if (this.producer) await this.producer.disconnect();
    this.producer = undefined;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t.name));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: this.options.replicationFactor ?? 1,
          configEntries: [
            { name: "cleanup.policy", value: t.compacted ? "compact" : "delete" },
            { name: "retention.ms", value: String(t.retentionMs) },
          ],
        })),
      });
    } catch (err) {
      throw new BusError(`cannot create topics on ${this.options.brokers.join(",")}: ${describe(err)}`, {
        retriable: true,
        cause: err,
      });
    } finally {
      await admin.disconnect();
    }
  }

  private getProducer(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const producer = this.kafka.producer({
        // Named, not defaulted: keyedAssigner finds a key's partition with the same function.
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      try {
        await producer.connect();
      } catch (err) {
        this.connecting = undefined;
        throw new BusError(`cannot connect to Kafka at ${this.options.brokers.join(",")}: ${describe(err)}`, {
          retriable: true,
          cause: err,
        });
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }
}

function toRecord(topic: string, partition: number, message: KafkaMessage): BusRecord {
  return {
    topic,
    key: message.key?.toString("utf8") ?? "",
    value: message.value ? new Uint8Array(message.value) : new Uint8Array(),
    headers: headersOf(message.headers),
    offset: message.offset,
    timestamp: Number(message.timestamp),
    partition,
  };
}

function headersOf(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString("utf8") : String(v);
  }
  return out;
}

function isRetriable(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { retriable?: unknown }).retriable === true;
}

const partitionOf = Partitioners.DefaultPartitioner();

/**
 * Assigns a group only the partitions its keys are produced to (the producer's partitioner), round
 * robin over the members: an agent is not woken by the records of another module's partition.
 */
function keyedAssigner(keys: readonly string[]): PartitionAssigner {
  const name = "MevlabKeyedAssigner";
  return ({ cluster }) => ({
    name,
    version: 0,
    async assign({ members, topics }) {
      const sorted = members.map((m) => m.memberId).sort();
      const assignment = new Map<string, Record<string, number[]>>(sorted.map((id) => [id, {}]));
      let next = 0;
      for (const topic of topics) {
        const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
        const wanted = new Set(
          keys.map((key) => partitionOf({ topic, partitionMetadata, message: { key, value: null } })),
        );
        for (const { partitionId } of partitionMetadata) {
          if (!wanted.has(partitionId)) continue;
          const member = assignment.get(sorted[next++ % sorted.length])!;
          (member[topic] ??= []).push(partitionId);
        }
      }
      return sorted.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: assignment.get(memberId)!,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
