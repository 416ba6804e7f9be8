import { randomUUID } from "node:crypto";
import {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type KafkaConfig,
  type LogEntry,
  type Message,
  type Producer,
  type SASLOptions,
} from "kafkajs";
import { ALL_TOPICS, type TopicSpec } from "@mevlab/proto";
import { BusError, describe } from "../errors";
import { canRemoveGroupMembers, removeGroupMembers } from "./kafkajs-leave";
import { isRetriable, toRecord, type TopicOffset } from "./kafka-records";
import { KafkaSubscription } from "./kafka-subscription";
import {
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

/** How long a subscription retries reading its group's offsets while the broker says "try again". */
const PIN_RETRY_MS = 30_000;

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  /** Topics to create when missing (single-node development: replication factor 1). */
  topics?: readonly TopicSpec[];
  replicationFactor?: number;
  /** Where kafkajs' own log lines go; errors only, by default to stderr. */
  log?: (line: string) => void;
  /** SASL and TLS to the brokers (`kafkaSecurityFromEnv`); none by default. */
  security?: KafkaSecurity;
}

/** How a client authenticates to the brokers and encrypts the connection. */
export interface KafkaSecurity {
  sasl?: { mechanism: "scram-sha-256" | "scram-sha-512" | "plain"; username: string; password: string };
  /** TLS: true trusts the system's CAs; or PEM texts of a CA to trust and of a client certificate and key. */
  ssl?: boolean | { ca?: string; cert?: string; key?: string };
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
      // kafkajs types each mechanism apart; the three take the same username and password.
      ...(options.security?.sasl ? { sasl: options.security.sasl as SASLOptions } : {}),
      ...(options.security?.ssl ? { ssl: options.security.ssl } : {}),
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

  private async consume(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription> {
    const subscription = new KafkaSubscription(options, handler, {
      kafka: this.kafka,
      log: this.log,
      publishOutput: (records) => publishInOrder(this, records),
      // One admin session before joining, for both.
      prepare: (o) =>
        this.withAdmin(`offsets of ${o.group}`, async (admin) => {
          if (o.exclusive) await this.removeEarlierMembers(admin, o.group);
          return o.fromBeginning ? [] : this.uncommittedEnds(admin, o.group, o.topics);
        }),
      removeEarlierMembers: (group) =>
        this.withAdmin(`members of ${group}`, (admin) => this.removeEarlierMembers(admin, group)),
      closed: (s) => this.subscriptions.delete(s),
    });
    await subscription.begin();
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
