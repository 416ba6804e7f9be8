import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  Action,
  ControlArgsSchema,
  ControlRequestSchema,
  Module,
  create,
  toWireJson,
  type ControlRequest,
} from "@mevlab/proto";
import { authenticate, authorizeMutation } from "../auth/guard";
import type { TokenService } from "../auth/tokens";
import type { AuditLog } from "../audit/log";
import { HttpError } from "../http/errors";
import type { RequestTracker } from "./requests";
import type { ControlService, Issuer } from "./service";
import { parseBundleRetry, parseControlBody, parseTarget, policyChangesOf } from "./validate";

export interface ControlDeps {
  tokens: TokenService;
  audit: AuditLog;
  service: ControlService;
  tracker: RequestTracker;
}

export async function issuerOf(req: FastifyRequest, deps: ControlDeps, what: string): Promise<Issuer> {
  const who = await authorizeMutation(req, deps.tokens, deps.audit, what);
  return { user: who.sub, role: who.role, ip: req.ip };
}

export function accepted(request: ControlRequest, extra: Record<string, unknown> = {}) {
  return {
    ok: true,
    request_id: request.requestId,
    modules: request.modules.map((m) => Module[m]),
    action: Action[request.action],
    ...extra,
  };
}

export function controlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  app.post<{ Params: { spec: string } }>("/api/control/module/:spec", async (req, reply) => {
    const who = await issuerOf(req, deps, "control");
    const target = parseTarget(req.params.spec);
    const args = parseControlBody(req.body, target.action);
    if (target.action === Action.policy) {
      const { policy, request } = await deps.service.promote(
        target.module,
        policyChangesOf(args),
        who,
        "policy action",
      );
      return reply
        .code(202)
        .send({ ...accepted(request), module: target.moduleName, policy_version: Number(policy.version) });
    }
    const request = await deps.service.send([target.module], target.action, args, who);
    return reply.code(202).send({ ...accepted(request), module: target.moduleName });
  });

  app.post("/api/control/kill-all", async (req, reply) => {
    const who = await issuerOf(req, deps, "kill-all");
    parseControlBody(req.body, Action.kill);
    const args = create(ControlArgsSchema, { kill: true });
    const request = await deps.service.send([Module.arbitrage, Module.mev], Action.kill, args, who);
    return reply.code(202).send(accepted(request));
  });

  app.post("/api/agents/bundle/retry", async (req, reply) => {
    const who = await issuerOf(req, deps, "retry_bundle");
    const args = parseBundleRetry(req.body);
    const request = await deps.service.send([Module.mev], Action.retry_bundle, args, who);
    return reply.code(202).send({ ...accepted(request), module: "mev" });
  });

  app.get<{ Params: { id: string } }>("/api/control/requests/:id", async (req) => {
    await authenticate(req, deps.tokens);
    const request = deps.tracker.get(req.params.id);
    if (!request)
      throw new HttpError(404, "unknown_request", `no request ${req.params.id} (or it is too old to be kept)`);
    return toWireJson(ControlRequestSchema, request);
  });
}
