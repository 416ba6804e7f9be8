import type { MessageShape } from "@bufbuild/protobuf";
import { SCHEMA_VERSION, SCHEMA_VERSION_HEADER, decode, encode, type TopicSpec } from "@mevlab/proto";
import type { DescMessage } from "@bufbuild/protobuf";
import type { Bus, BusRecord, Subscription, TopicRecord } from "./bus";

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
 * Subscribes to one contract topic and decodes each record. A record that does not decode is
 * reported to `onBadRecord` and skipped: one corrupt record must not stop the stream.
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
