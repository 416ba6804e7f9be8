import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ControlAccepted, PolicyViewJson } from "@mevlab/kernel-helpers";
import { Module, PolicySchema, toWireJson } from "@mevlab/proto";
import { READ, issuer, mutation } from "../auth/access";
import { accepted, moduleName, type ControlDeps } from "../control/routes";
import { ModuleParams, PolicyUpdateBody, RollbackBody } from "../control/schemas";
import { policyUpdate } from "../control/validate";
import { checkModel, rollbackWithLineage, updateWithLineage, type PromotionDeps } from "./promote";

const tags = ["policy"];

/** Versioned policies: promote changes, read the history, roll back to an earlier version. */
export const policyRoutes: FastifyPluginAsyncTypebox<ControlDeps & PromotionDeps> = async (app, deps) => {
  app.post(
    "/api/policy/update",
    {
      config: { access: mutation("policy.update") },
      schema: {
        summary: "Promote a new policy version",
        tags,
        body: PolicyUpdateBody,
        response: { 202: ControlAccepted },
      },
    },
    async (req, reply) => {
      const { module, changes, reason } = policyUpdate(req.body);
      if (changes.modelId) await checkModel(deps.models, req.body.module, changes.modelId);
      const { policy, request } = await updateWithLineage(deps, module, changes, issuer(req), reason);
      return reply
        .code(202)
        .send({ ...accepted(request), module: moduleName(module), policy_version: Number(policy.version) });
    },
  );

  app.get(
    "/api/policy/:module",
    {
      config: { access: READ },
      schema: {
        summary: "The module's current policy and every version before it",
        tags,
        params: ModuleParams,
        response: { 200: PolicyViewJson },
      },
    },
    async (req) => {
      const module = Module[req.params.module];
      return {
        module: req.params.module,
        current: toWireJson(PolicySchema, deps.policies.current(module)),
        history: deps.policies.list(module).map((p) => toWireJson(PolicySchema, p)),
      };
    },
  );

  app.post(
    "/api/policy/:module/rollback",
    {
      config: { access: mutation("policy.rollback") },
      schema: {
        summary: "Promote an earlier version's content as the next version",
        tags,
        params: ModuleParams,
        body: RollbackBody,
        response: { 202: ControlAccepted },
      },
    },
    async (req, reply) => {
      const module = Module[req.params.module];
      const { version, reason } = req.body;
      const { policy, request } = await rollbackWithLineage(deps, module, BigInt(version), reason ?? "", issuer(req));
      return reply
        .code(202)
        .send({ ...accepted(request), module: req.params.module, policy_version: Number(policy.version) });
    },
  );
};
