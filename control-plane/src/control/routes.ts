import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ControlCommandSchema, TOPICS, create } from "@mevlab/proto";
import { publishMessage, type Bus } from "@mevlab/kernel-helpers";
import { authorizeMutation } from "../auth/guard";
import type { TokenService } from "../auth/tokens";
import type { AuditLog } from "../audit/log";
import { HttpError } from "../http/errors";
import { parseControlBody, parseTarget } from "./validate";

/** How long an agent may still apply a command after it was issued. */
const COMMAND_TTL_MS = 10_000;

export function controlRoutes(app: FastifyInstance, deps: { bus: Bus; tokens: TokenService; audit: AuditLog }): void {
  app.post<{ Params: { spec: string } }>("/api/control/module/:spec", async (req, reply) => {
    const who = await authorizeMutation(req, deps.tokens, deps.audit, "control");
    const target = parseTarget(req.params.spec);
    const args = parseControlBody(req.body, target.action);
    const ts = Date.now();
    const command = create(ControlCommandSchema, {
      schemaVersion: 1,
      ts: BigInt(ts),
      module: target.module,
      action: target.action,
      args,
      requestId: randomUUID(),
      issuer: who.sub,
      notAfter: BigInt(ts + COMMAND_TTL_MS),
    });
    deps.audit.write({
      user: who.sub,
      role: who.role,
      action: `control.${target.actionName}`,
      target: target.moduleName,
      outcome: "accepted",
      request_id: command.requestId,
      ip: req.ip,
    });
    try {
      await publishMessage(deps.bus, TOPICS.controlCommands, target.moduleName, command);
    } catch (err) {
      req.log.error({ err }, "publish failed");
      throw new HttpError(
        503,
        "bus_unavailable",
        `command not sent: the bus is unavailable (${(err as Error).message})`,
      );
    }
    return reply
      .code(202)
      .send({ ok: true, request_id: command.requestId, module: target.moduleName, action: target.actionName });
  });
}
