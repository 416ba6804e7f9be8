import type { FastifyInstance } from "fastify";
import { Module, PolicySchema, toWireJson } from "@mevlab/proto";
import { authenticate } from "../auth/guard";
import { accepted, issuerOf, type ControlDeps } from "../control/routes";
import { parseModule, parsePolicyUpdate, parseRollback } from "../control/validate";
import type { PolicyStore } from "./store";

export function policyRoutes(app: FastifyInstance, deps: ControlDeps & { policies: PolicyStore }): void {
  app.post("/api/policy/update", async (req, reply) => {
    const who = await issuerOf(req, deps, "policy.update");
    const { module, changes, reason } = parsePolicyUpdate(req.body);
    const { policy, request } = await deps.service.promote(module, changes, who, reason);
    return reply
      .code(202)
      .send({ ...accepted(request), module: Module[module], policy_version: Number(policy.version) });
  });

  app.get<{ Params: { module: string } }>("/api/policy/:module", async (req) => {
    await authenticate(req, deps.tokens);
    const module = parseModule(req.params.module, 404);
    return {
      module: Module[module],
      current: toWireJson(PolicySchema, deps.policies.current(module)),
      history: deps.policies.list(module).map((p) => toWireJson(PolicySchema, p)),
    };
  });

  app.post<{ Params: { module: string } }>("/api/policy/:module/rollback", async (req, reply) => {
    const who = await issuerOf(req, deps, "policy.rollback");
    const module = parseModule(req.params.module, 404);
    const { version, reason } = parseRollback(req.body);
    const { policy, request } = await deps.service.rollback(module, version, who, reason);
    return reply
      .code(202)
      .send({ ...accepted(request), module: Module[module], policy_version: Number(policy.version) });
  });
}
