// kafkajs messages as bus records, and the partition assigner of keyed subscriptions.
import { AssignerProtocol, Partitioners, type KafkaMessage, type PartitionAssigner } from "kafkajs";
import type { BusRecord } from "./bus";

/** A partition's position: the next offset to read. */
export interface TopicOffset {
  topic: string;
  partition: number;
  offset: string;
}

export function toRecord(topic: string, partition: number, message: KafkaMessage): BusRecord {
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

export function isRetriable(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { retriable?: unknown }).retriable === true;
}

const partitionOf = Partitioners.DefaultPartitioner();

/**
 * Assigns a group only the partitions its keys are produced to (the producer's partitioner), round
 * robin over the members: an agent is not woken by the records of another module's partition.
 */
export function keyedAssigner(keys: readonly string[]): PartitionAssigner {
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
