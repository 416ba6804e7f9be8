import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Module, TOPICS, type BusRecord, type DescMessage, type TopicSpec } from "@mevlab/proto";
import type { LinkGuard, LinkSubscribeRequest } from "@mevlab/kernel-helpers";

/**
 * What an agent may do on the bus link (proto/TOPICS.md, "Bus link"): its session is bound to the
 * agent id and module of its token. It subscribes only to its module's commands in its own group and
 * to its own heartbeats, snapshots only its module's policy, and publishes only records about itself
 * (decoded `agent_id` equal to its id, `module` to its module) on the topics agents write. Never
 * commands, never policies, never a topic or group of its choosing.
 */
export interface AgentPeer {
  agentId: string;
  module: "arbitrage" | "mev";
}

/** A field of a message, by its proto name: its number comes from the generated descriptor. */
function fieldNumber(schema: DescMessage, name: string): number | undefined {
  return schema.fields.find((f) => f.name === name)?.number;
}

interface Writable {
  spec: TopicSpec;
  /** What the record key must be: the agent id or the module name. */
  key?: "agent" | "module";
  agentIdField: number;
  moduleField?: number;
}

function writable(spec: TopicSpec, key?: "agent" | "module"): Writable {
  const agentIdField = fieldNumber(spec.schema, "agent_id");
  if (agentIdField === undefined) throw new Error(`${spec.name} records carry no agent_id`);
  return { spec, key, agentIdField, moduleField: fieldNumber(spec.schema, "module") };
}

const COMMON = [
  writable(TOPICS.agentStatus, "agent"),
  writable(TOPICS.agentMetrics, "agent"),
  writable(TOPICS.controlAcks, "module"),
  writable(TOPICS.bundleOutcomes),
];
/** The topics an agent of each module publishes on, read once from the contract. */
const AGENT_TOPICS: Record<AgentPeer["module"], Map<string, Writable>> = {
  arbitrage: new Map([...COMMON, writable(TOPICS.arbOpportunities)].map((w) => [w.spec.name, w])),
  mev: new Map([...COMMON, writable(TOPICS.mevOpportunities)].map((w) => [w.spec.name, w])),
};

/** The top-level `agent_id` (string) and `module` (enum) of an encoded record, read without decoding the rest. */
function identity(value: Uint8Array, w: Writable): { agentId?: string; module?: number } {
  const reader = new BinaryReader(value);
  const found: { agentId?: string; module?: number } = {};
  while (reader.pos < reader.len) {
    const [no, type] = reader.tag();
    if (no === w.agentIdField && type === WireType.LengthDelimited) found.agentId = reader.string();
    else if (no === w.moduleField && type === WireType.Varint) found.module = reader.int32();
    else reader.skip(type, no);
  }
  return found;
}

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export function agentLinkGuard(peer: AgentPeer): LinkGuard {
  const topics = AGENT_TOPICS[peer.module];
  const moduleNo = Module[peer.module];
  const checkRecord = (r: BusRecord): string | undefined => {
    const w = topics.get(r.topic);
    if (!w) return `agent ${peer.agentId} may not publish on '${r.topic}'`;
    const wantKey = w.key === "agent" ? peer.agentId : w.key === "module" ? peer.module : undefined;
    if (wantKey !== undefined && r.key !== wantKey)
      return `${r.topic} records of ${peer.agentId} have key '${wantKey}'`;
    let id: { agentId?: string; module?: number };
    try {
      id = identity(r.value, w);
    } catch {
      return `${r.topic} record is not a ${w.spec.schema.typeName}`;
    }
    if (id.agentId !== peer.agentId) return `${r.topic} record names agent '${id.agentId ?? ""}', not ${peer.agentId}`;
    if (w.moduleField !== undefined && id.module !== moduleNo)
      return `${r.topic} record is not of module ${peer.module}`;
    return undefined;
  };
  return {
    subscribe(req: LinkSubscribeRequest): string | undefined {
      const commands =
        same(req.topics, [TOPICS.controlCommands.name]) &&
        req.group === `agent-${peer.agentId}` &&
        same(req.keys, [peer.module]);
      const ownHeartbeat =
        same(req.topics, [TOPICS.agentStatus.name]) &&
        req.group.startsWith(`agent-${peer.agentId}-heartbeat-`) &&
        same(req.keys, [peer.agentId]);
      if (commands || ownHeartbeat) return undefined;
      return (
        `agent ${peer.agentId} may subscribe only to ${TOPICS.controlCommands.name} (group agent-${peer.agentId}, ` +
        `keys [${peer.module}]) and to its own heartbeats`
      );
    },
    snapshot(topic: string): string | undefined {
      return topic === TOPICS.policies.name
        ? undefined
        : `agent ${peer.agentId} may snapshot only ${TOPICS.policies.name}`;
    },
    visible(record: BusRecord): boolean {
      return record.key === peer.module;
    },
    publish(records: readonly BusRecord[]): string | undefined {
      for (const r of records) {
        const bad = checkRecord(r);
        if (bad) return bad;
      }
      return undefined;
    },
  };
}
