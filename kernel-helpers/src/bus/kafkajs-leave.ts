import type { Kafka } from "kafkajs";
import { PATCHED_KAFKAJS_VERSION, isPatchedKafkajsRelease } from "./kafkajs-idle";

/**
 * Removes members from a consumer group on their behalf: a LeaveGroup (v3 names the member) sent to
 * the group's coordinator, as Kafka's own admin client does for `removeMembersFromConsumerGroup`
 * (KIP-345, KIP-571). kafkajs' admin has no such call; its cluster client can send the request, and
 * is reached through the factory a kafkajs client keeps under a private symbol — so only on the
 * kafkajs release this was written against (the one the idle-timer patch is for).
 */
interface ClusterInternals {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(opts: { groupId: string }): Promise<{
    leaveGroup(opts: { groupId: string; memberId: string }): Promise<unknown>;
  }>;
}

type ClusterFactory = (opts: { allowAutoTopicCreation: boolean }) => ClusterInternals;

function clusterFactory(kafka: Kafka): ClusterFactory | undefined {
  if (!isPatchedKafkajsRelease()) return undefined;
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const factory = key === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[key];
  return typeof factory === "function" ? (factory as ClusterFactory) : undefined;
}

/** Whether `removeGroupMembers` can work with the kafkajs in use. */
export function canRemoveGroupMembers(kafka: Kafka): boolean {
  return clusterFactory(kafka) !== undefined;
}

/** Sends LeaveGroup for each member id to the group's coordinator; throws what the broker answers. */
export async function removeGroupMembers(kafka: Kafka, groupId: string, memberIds: readonly string[]): Promise<void> {
  const create = clusterFactory(kafka);
  if (!create) throw new Error(`removing group members needs kafkajs ${PATCHED_KAFKAJS_VERSION}`);
  const cluster = create({ allowAutoTopicCreation: false });
  await cluster.connect();
  try {
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    for (const memberId of memberIds) await coordinator.leaveGroup({ groupId, memberId });
  } finally {
    await cluster.disconnect();
  }
}
