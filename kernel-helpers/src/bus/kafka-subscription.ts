import type { Consumer, Kafka } from "kafkajs";
import { BusError, describe } from "../errors";
import { keyFilter, type BatchHandler, type SubscribeOptions, type Subscription, type TopicRecord } from "./bus";
import { isRetriable, keyedAssigner, toRecord, type TopicOffset } from "./kafka-records";

const COMMIT_INTERVAL_MS = 1_000;
/** A consumer kafkajs gave up on is started again after this, doubling up to RESTART_MAX_MS. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;

/** What a subscription needs of its bus. */
export interface KafkaSubscriptionContext {
  kafka: Kafka;
  log(line: string): void;
  /** Publishes a handler's output, in order; the batch counts as done once it is on the broker. */
  publishOutput(records: readonly TopicRecord[]): Promise<void>;
  /**
   * Before the group joins: removes the members an earlier run of this client left in an exclusive
   * group, and returns the partitions the group has no committed offset for, with the topic's end.
   */
  prepare(options: SubscribeOptions): Promise<TopicOffset[]>;
  /** Before kafkajs restarts an exclusive group's consumer: the earlier run's members removed. */
  removeEarlierMembers(group: string): Promise<void>;
  /** Told once the subscription is closed. */
  closed(subscription: KafkaSubscription): void;
}

/**
 * - `starting`: joining the group; the first fetch pins the group's start (see `prepare`), and a
 *   consumer that crashes now fails `start`.
 * - `live`: batches are handled; offsets are noted once their effect is done and committed every
 *   second and on close.
 * - `restarting`: kafkajs stopped its consumer for good; a new one joins after a backoff.
 * - `closed`.
 */
export type KafkaSubscriptionState = "starting" | "live" | "restarting" | "closed";

/**
 * One subscription of the Kafka bus. kafkajs' auto-commit commits after every batch, a broker round
 * trip (several ms here) before the next fetch. Instead, offsets are noted once the handler's effect
 * is done and committed every second and on close: never before the effect; after a crash the last
 * second is redelivered, which the consumers' own idempotency (dedupe by request id) absorbs.
 */
export class KafkaSubscription implements Subscription {
  private state: KafkaSubscriptionState = "starting";
  private consumer: Consumer;
  private readonly accept: ((key: string) => boolean) | undefined;
  /** The next offset of each partition whose batch is done, not yet committed. */
  private readonly done = new Map<string, TopicOffset>();
  /** Partitions without a committed offset, with the topic's end before the group joined. */
  private start: TopicOffset[] = [];
  /** Whether that start is committed: until then the periodic commit waits, so it never lands after a later position. */
  private pinned = false;
  private readonly timer: NodeJS.Timeout;
  private restartDelay = RESTART_MIN_MS;
  private restartTimer?: NodeJS.Timeout;
  private failStart: (err: unknown) => void = () => undefined;

  constructor(
    private readonly options: SubscribeOptions,
    private readonly handler: BatchHandler,
    private readonly ctx: KafkaSubscriptionContext,
  ) {
    this.accept = keyFilter(options.keys);
    this.consumer = this.newConsumer();
    this.timer = setInterval(() => {
      this.commit().catch((err: unknown) => ctx.log(`commit for ${options.group} failed: ${describe(err)}`));
    }, COMMIT_INTERVAL_MS);
    this.timer.unref();
  }

  get currentState(): KafkaSubscriptionState {
    return this.state;
  }

  /** Joins the group; resolves once the first fetch has run, from when no new record is missed. */
  async begin(): Promise<void> {
    const firstFetch = this.firstFetch();
    try {
      if (this.options.exclusive || !this.options.fromBeginning) this.start = await this.ctx.prepare(this.options);
      await this.join(this.consumer);
      await firstFetch;
      this.state = "live";
    } catch (err) {
      this.state = "closed";
      clearInterval(this.timer);
      await this.consumer.disconnect().catch(() => undefined);
      throw new BusError(`subscribe to ${this.options.topics.join(", ")} failed: ${describe(err)}`, {
        retriable: isRetriable(err),
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    this.state = "closed";
    clearTimeout(this.restartTimer);
    clearInterval(this.timer);
    this.ctx.closed(this);
    // Commit while the group is still joined (kafkajs refuses after stop); a batch that finishes
    // after this is redelivered to the group's next member, which is harmless here.
    await this.commit().catch((err: unknown) =>
      this.ctx.log(`final commit for ${this.options.group} failed: ${describe(err)}`),
    );
    await this.consumer.stop();
    await this.consumer.disconnect();
  }

  private newConsumer(): Consumer {
    const { group, exclusive } = this.options;
    const c = this.ctx.kafka.consumer({
      groupId: group,
      ...(this.accept ? { partitionAssigners: [keyedAssigner(this.options.keys ?? [])] } : {}),
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      allowAutoTopicCreation: false,
      // kafkajs restarts a consumer that lost its broker; the restarted one joins as a new member,
      // which waited for the lost one's session to end (about 10 s after the broker was back).
      ...(exclusive
        ? {
            retry: {
              restartOnFailure: async () => {
                await this.ctx
                  .removeEarlierMembers(group)
                  .catch((err: unknown) => this.ctx.log(`${group}: ${describe(err)}`));
                return true;
              },
            },
          }
        : {}),
    });
    c.on(c.events.CRASH, ({ payload }) => {
      if (!payload.restart && c === this.consumer) this.stopped(payload.error);
    });
    return c;
  }

  /** Resolves at the first fetch, once the group's start is committed (the consumer must be running to commit). */
  private firstFetch(): Promise<void> {
    const fetched = new Promise<void>((resolve, reject) => {
      this.failStart = reject;
      const off = this.consumer.on(this.consumer.events.FETCH, () => {
        off();
        (this.start.length > 0 ? this.consumer.commitOffsets(this.start) : Promise.resolve()).then(() => {
          this.pinned = true;
          resolve();
        }, reject);
      });
    });
    // Awaited by begin; a crash while the consumer is still starting must not count as unhandled meanwhile.
    fetched.catch(() => undefined);
    return fetched;
  }

  private async join(c: Consumer): Promise<void> {
    await c.connect();
    await c.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? false });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
        const accept = this.accept;
        const wanted = accept ? records.filter((r) => accept(r.key)) : records;
        if (wanted.length > 0) {
          const output = await this.handler(wanted);
          // The handler's output is on the broker before the batch counts as done.
          if (output && output.length > 0) await this.ctx.publishOutput(output);
        }
        for (const m of batch.messages) resolveOffset(m.offset);
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        this.done.set(`${batch.topic}/${batch.partition}`, {
          topic: batch.topic,
          partition: batch.partition,
          offset: next,
        });
        this.restartDelay = RESTART_MIN_MS;
        await heartbeat();
      },
    });
  }

  private async commit(): Promise<void> {
    if (!this.pinned || this.done.size === 0) return;
    const offsets = [...this.done.values()];
    this.done.clear();
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (err) {
      // Tried again at the next tick, unless a later batch has moved the partition on meanwhile.
      for (const o of offsets) {
        const key = `${o.topic}/${o.partition}`;
        if (!this.done.has(key)) this.done.set(key, o);
      }
      throw err;
    }
  }

  /**
   * kafkajs restarts its consumer after a retriable error only. After any other (a handler that
   * throws a TypeError, a publish of its output the broker refused for good) the consumer stayed
   * stopped, and nothing told the bus: the subscription went quiet for good. Now it is started again
   * from the group's committed position (the failed batch comes again: at least once, as after a
   * retriable error), after a wait that doubles up to RESTART_MAX_MS while it keeps failing.
   */
  private stopped(err: unknown): void {
    if (this.state === "starting") return this.failStart(err);
    if (this.state !== "live") return;
    this.state = "restarting";
    this.ctx.log(
      `${this.options.group}: the consumer stopped (${describe(err)}); starting it again in ${this.restartDelay} ms`,
    );
    this.restartTimer = setTimeout(() => void this.restart(), this.restartDelay);
    this.restartDelay = Math.min(this.restartDelay * 2, RESTART_MAX_MS);
  }

  private async restart(): Promise<void> {
    this.restartTimer = undefined;
    if (this.state === "closed") return;
    await this.consumer.disconnect().catch(() => undefined);
    const c = (this.consumer = this.newConsumer());
    // Live again from here: a crash of the new consumer (while joining or later) schedules the next try.
    this.state = "live";
    try {
      await this.join(c);
    } catch (err) {
      if (c === this.consumer) this.stopped(err);
    }
  }
}
