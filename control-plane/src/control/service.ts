import { randomUUID } from "node:crypto";
import {
  Action,
  ControlArgsSchema,
  ControlCommandSchema,
  Module,
  PolicySchema,
  TOPICS,
  clone,
  create,
  type ControlArgs,
  type ControlRequest,
  type Policy,
} from "@mevlab/proto";
import {
  describe,
  publishMessage,
  publishMessages,
  signCommand,
  signPolicy,
  type Bus,
  type SigningKey,
} from "@mevlab/kernel-helpers";
import type { AgentRegistry } from "../agents/registry";
import type { AuditLog } from "../audit/log";
import { HttpError } from "../http/errors";
import type { PolicyChanges, PolicyStore } from "../policy/store";
import type { RequestTracker } from "./requests";

/** How long an agent may still apply a command after it was issued. */
export const COMMAND_TTL_MS = 10_000;

export interface Issuer {
  user: string;
  role: string;
  ip: string;
}

/**
 * Turns a validated request into commands on the bus: records the request (so no ack can outrun
 * it), writes the audit record, then publishes one command per module under one request id.
 */
export class ControlService {
  constructor(
    private readonly deps: {
      bus: Bus;
      tracker: RequestTracker;
      registry: AgentRegistry;
      policies: PolicyStore;
      audit: AuditLog;
      /** Signs every command and policy sent (proto/TOPICS.md, "Signatures"). */
      signer: SigningKey;
      commandTtlMs?: number;
    },
  ) {}

  async send(modules: Module[], action: Action, args: ControlArgs, who: Issuer): Promise<ControlRequest> {
    const ts = Date.now();
    const ttl = this.deps.commandTtlMs ?? COMMAND_TTL_MS;
    const requestId = randomUUID();
    const request = this.deps.tracker.create({
      requestId,
      modules,
      action,
      args,
      issuer: who.user,
      createdAt: BigInt(ts),
      notAfter: BigInt(ts + ttl),
      expectedAgents: this.deps.registry.live(modules),
    });
    this.deps.audit.write({
      user: who.user,
      role: who.role,
      action: `control.${Action[action]}`,
      target: modules.map((m) => Module[m]).join(","),
      outcome: "accepted",
      request_id: requestId,
      ip: who.ip,
    });
    const commands = modules.map((module) => ({
      key: Module[module],
      message: signCommand(
        create(ControlCommandSchema, {
          schemaVersion: 1,
          ts: BigInt(ts),
          module,
          action,
          args,
          requestId,
          issuer: who.user,
          notAfter: BigInt(ts + ttl),
        }),
        this.deps.signer,
      ),
    }));
    try {
      // The record that allows the command is on disk before the command is on the bus.
      await this.deps.audit.durable();
    } catch (err) {
      throw new HttpError(
        500,
        "audit_unavailable",
        `command not sent: the audit log could not be flushed (${describe(err)})`,
      );
    }
    try {
      await publishMessages(this.deps.bus, TOPICS.controlCommands, commands);
    } catch (err) {
      throw new HttpError(
        503,
        "bus_unavailable",
        `command not sent: the bus is unavailable (${(err as Error).message})`,
      );
    }
    return request;
  }

  /** A new policy version from the current one: kept, published on `policies`, sent to the agents. */
  async promote(
    module: Module,
    changes: PolicyChanges,
    who: Issuer,
    reason: string,
  ): Promise<{ policy: Policy; request: ControlRequest }> {
    const policy = this.deps.policies.next(module, changes, who.user, reason);
    return { policy, request: await this.publishPolicy(policy, who) };
  }

  /** Rolling back promotes the content of an earlier version as the next version. */
  async rollback(
    module: Module,
    version: bigint,
    who: Issuer,
    reason: string,
  ): Promise<{ policy: Policy; request: ControlRequest }> {
    const target = this.deps.policies.find(module, version);
    if (!target) throw new HttpError(404, "unknown_version", `${Module[module]} has no policy version ${version}`);
    const policy = this.deps.policies.next(
      module,
      {
        evMin: target.evMin,
        tipLadder: target.tipLadder,
        throttlePct: target.throttlePct,
        kill: target.kill,
        modelId: target.modelId,
        shadow: target.shadow ? { modelId: target.shadow.modelId, evMin: target.shadow.evMin } : null,
      },
      who.user,
      reason || `rollback to version ${version}`,
    );
    return { policy, request: await this.publishPolicy(policy, who) };
  }

  private async publishPolicy(kept: Policy, who: Issuer): Promise<ControlRequest> {
    const policy = signPolicy(clone(PolicySchema, kept), this.deps.signer);
    try {
      // On the compacted topic first: an agent that restarts from now on recovers this version.
      await publishMessage(this.deps.bus, TOPICS.policies, Module[policy.module], policy);
    } catch (err) {
      throw new HttpError(
        503,
        "bus_unavailable",
        `policy v${policy.version} kept but not published: ${(err as Error).message}`,
      );
    }
    return this.send([policy.module], Action.policy, create(ControlArgsSchema, { policy }), who);
  }
}
