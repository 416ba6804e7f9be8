import type { MessageShape } from "@bufbuild/protobuf";
import {
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
  decode,
  encode,
  readsSchemaVersion,
  type TopicSpec,
} from "@mevlab/proto";
import type { DescMessage } from "@bufbuild/protobuf";
import { MevlabError } from "../errors";
import type { Bus, BusRecord, Subscription, TopicRecord } from "./bus";

/** A record whose `mevlab-schema-version` header names a major version this code does not read. */
export class SchemaVersionError extends MevlabError {
  override readonly name = "SchemaVersionError";
  readonly topic: string;
  /** The header's value as it came. */
  readonly version: string;
  constructor(record: BusRecord) {
    const version = record.headers[SCHEMA_VERSION_HEADER] ?? "";
    super(
      `${record.topic}@${record.offset}: schema version ${JSON.stringify(version)} is not one this code reads ` +
        `(major ${SCHEMA_VERSION}); skipped`,
    );
    this.topic = record.topic;
    this.version = version;
  }
}

/** The SchemaVersionError of a record of an unknown schema major; undefined when the record is readable. */
export function schemaVersionError(record: BusRecord): SchemaVersionError | undefined {
  return readsSchemaVersion(record.headers) ? undefined : new SchemaVersionError(record);
}

/**
 * Counts the records a consumer skips, per topic and reason, and says which of them to report: the
 * first ten of each, then every 1000th, so that a producer that sends nothing but bad records cannot
 * flood the log.
 */
export class SkippedRecords {
  private readonly counts = new Map<string, { topic: string; reason: string; count: bigint }>();

  /** Counts one; returns how many of its topic and reason there have been when this one is to be reported. */
  note(topic: string, reason: string): bigint | undefined {
    const id = `${topic}\u0000${reason}`;
    let entry = this.counts.get(id);
    if (!entry) this.counts.set(id, (entry = { topic, reason, count: 0n }));
    entry.count += 1n;
    return entry.count <= 10n || entry.count % 1000n === 0n ? entry.count : undefined;
  }

  /** Every count so far. */
  entries(): { topic: string; reason: string; count: bigint }[] {
    return [...this.counts.values()].map((e) => ({ ...e }));
  }

  total(): bigint {
    let n = 0n;
    for (const e of this.counts.values()) n += e.count;
    return n;
  }
}

/** Contract messages as records of their topic, with the schema-version header. */
export function messageRecords<S extends DescMessage>(
  topic: TopicSpec<S>,
  items: readonly { key: string; message: MessageShape<S> }[],
): TopicRecord[] {
  return items.map(({ key, message }) => ({
    topic: topic.name,
    key,
    value: encode(topic.schema, message),
    headers: { [SCHEMA_VERSION_HEADER]: String(SCHEMA_VERSION) },
  }));
}

/** Publishes contract messages on their topic, with the schema-version header. */
export async function publishMessages<S extends DescMessage>(
  bus: Bus,
  topic: TopicSpec<S>,
  items: readonly { key: string; message: MessageShape<S> }[],
): Promise<void> {
  await bus.publish(topic.name, messageRecords(topic, items));
}

export function publishMessage<S extends DescMessage>(
  bus: Bus,
  topic: TopicSpec<S>,
  key: string,
  message: MessageShape<S>,
): Promise<void> {
  return publishMessages(bus, topic, [{ key, message }]);
}

/**
 * Subscribes to one contract topic and decodes each record. A record of a schema major this code
 * does not read (a SchemaVersionError, before decoding) or that does not decode is reported to
 * `onBadRecord` and skipped: one corrupt record must not stop the stream.
 */
export function subscribeMessages<S extends DescMessage>(
  bus: Bus,
  topic: TopicSpec<S>,
  options: { group: string; fromBeginning?: boolean; onBadRecord?: (record: BusRecord, err: unknown) => void },
  handler: (message: MessageShape<S>, record: BusRecord) => Promise<void> | void,
): Promise<Subscription> {
  return bus.subscribe(
    { topics: [topic.name], group: options.group, fromBeginning: options.fromBeginning },
    async (record) => {
      const unknown = schemaVersionError(record);
      if (unknown) {
        options.onBadRecord?.(record, unknown);
        return;
      }
      let message: MessageShape<S>;
      try {
        message = decode(topic.schema, record.value);
      } catch (err) {
        options.onBadRecord?.(record, err);
        return;
      }
      await handler(message, record);
    },
  );
}
