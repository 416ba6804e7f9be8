/** A record on the bus: the same shape for Kafka, the in-process bus and the WS link. */
export interface BusRecord {
  topic: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  /** Position in its topic (per partition on Kafka), as a decimal string. */
  offset: string;
  timestamp: number;
  /** The partition it was read from on Kafka; undefined on the local bus and the link. */
  partition?: number;
}

export interface OutgoingRecord {
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

export interface SubscribeOptions {
  topics: readonly string[];
  /** Consumer group: each group sees each record once; different groups each see every record. */
  group: string;
  /** Start at the oldest retained record when the group has no committed position. */
  fromBeginning?: boolean;
  /**
   * Only records with one of these keys reach the handler (all when absent). The group's position
   * moves past the others; on the link they are not even sent.
   */
  keys?: readonly string[];
  /**
   * The group belongs to one process alone (an agent's commands, a control plane's acks). On Kafka,
   * members that an earlier run of the same client left in it are removed before joining: a process
   * that crashed stays a member until its session times out (10 s), and until then the group cannot
   * take in the restarted one.
   */
  exclusive?: boolean;
}

/** The filter of `SubscribeOptions.keys`: undefined when every record passes. */
export function keyFilter(keys: readonly string[] | undefined): ((key: string) => boolean) | undefined {
  if (!keys || keys.length === 0) return undefined;
  const set = new Set(keys);
  return (key) => set.has(key);
}

/**
 * Handles one record. The bus waits for the returned promise before it delivers the next record of
 * the same subscription and before it commits the record's offset: the effect comes first.
 * A handler that throws does not end its subscription: on Kafka the batch comes again (kafkajs
 * retries it, then restarts the consumer from the committed position, whatever the error); the
 * local bus and the link log a warning and go on with the next batch. mevlab's own handlers catch
 * their errors and answer for them (an agent's `rejected` ack).
 */
export type RecordHandler = (record: BusRecord) => Promise<void>;

/** A record to publish on a named topic. */
export interface TopicRecord extends OutgoingRecord {
  topic: string;
}

/**
 * Handles every record delivered so far that the handler has not seen yet, in order. The bus waits
 * for it before the next batch and before committing: a consumer may look ahead within a batch.
 * What it returns (an agent's acks) the bus publishes after the effect and before it commits the
 * batch: on the link that is one frame back instead of a publish round trip and then a commit.
 */
export type BatchHandler = (records: BusRecord[]) => Promise<readonly TopicRecord[] | void>;

/** Publishes a batch handler's output in order: one publish per run of records of the same topic. */
export async function publishInOrder(bus: Pick<Bus, "publish">, records: readonly TopicRecord[]): Promise<void> {
  for (let i = 0; i < records.length;) {
    const topic = records[i].topic;
    let j = i + 1;
    while (j < records.length && records[j].topic === topic) j++;
    await bus.publish(topic, records.slice(i, j));
    i = j;
  }
}

export interface Subscription {
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: "kafka" | "local" | "link";
  /** Resolves once every record is durably accepted (all in-sync replicas on Kafka). */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** Resolves once the subscription is live: records published after it resolves are delivered. */
  subscribe(options: SubscribeOptions, handler: RecordHandler): Promise<Subscription>;
  /** Like `subscribe`, with the records that are already waiting handed over together. */
  subscribeBatches(options: SubscribeOptions, handler: BatchHandler): Promise<Subscription>;
  /** Every record of `topic` retained now, oldest first (for a compacted topic: the latest per key). */
  snapshot(topic: string): Promise<BusRecord[]>;
  close(): Promise<void>;
}

/** A record handler as a batch handler: one record after the other. */
export function oneByOne(handler: RecordHandler): BatchHandler {
  return async (records) => {
    for (const r of records) await handler(r);
  };
}
