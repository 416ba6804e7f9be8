import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ControlAccepted, ControlRequestJson, type ActionName, type ModuleName } from "@mevlab/kernel-helpers";
import {
  Action,
  ControlArgsSchema,
  ControlRequestSchema,
  Module,
  create,
  toWireJson,
  type ControlRequest,
} from "@mevlab/proto";
import { READ, issuer, mutation } from "../auth/access";
import { HttpError } from "../http/errors";
import type { Api } from "../http/typebox";
import { formatSchemaErrors } from "../http/validation";
import type { RequestTracker } from "./requests";
import { BundleRetryBody, ControlBody, ControlTarget } from "./schemas";
import type { ControlService } from "./service";
import { bundleRetryArgs, controlArgs, parseTarget, policyChangesOf, targetError } from "./validate";

export interface ControlDeps {
  service: ControlService;
  tracker: RequestTracker;
}

/** A module's name on the wire. */
export const moduleName = (module: Module) => Module[module] as ModuleName;

export function accepted(request: ControlRequest) {
  return {
    ok: true as const,
    request_id: request.requestId,
    modules: request.modules.map(moduleName),
    action: Action[request.action] as ActionName,
  };
}

const tags = ["control"];

/** `POST /api/control/module/{name}:{action}`: one module's action (the policy action promotes). */
function moduleAction(app: Api, deps: ControlDeps): void {
  app.post(
    "/api/control/module/:spec",
    {
      config: { access: mutation("control") },
      // Which part of `{name}:{action}` is unknown decides the 404's words.
      schemaErrorFormatter: (errors, part) =>
        part === "params" ? targetError(errors) : formatSchemaErrors(errors, part),
      schema: {
        summary: "Start, stop, restart, throttle, change the policy of, or kill one module",
        tags,
        params: ControlTarget,
        body: ControlBody,
        response: { 202: ControlAccepted },
      },
    },
    async (req, reply) => {
      const who = issuer(req);
      const target = parseTarget(req.params.spec);
      const args = controlArgs(req.body, target.action);
      if (target.action === Action.policy) {
        const { policy, request } = await deps.service.promote(
          target.module,
          policyChangesOf(args),
          who,
          "policy action",
        );
        return reply
          .code(202)
          .send({ ...accepted(request), module: moduleName(target.module), policy_version: Number(policy.version) });
      }
      const request = await deps.service.send([target.module], target.action, args, who);
      return reply.code(202).send({ ...accepted(request), module: moduleName(target.module) });
    },
  );
}

/** Commands to the agents: one module's action, kill-all, bundle retry; and their request records. */
export const controlRoutes: FastifyPluginAsyncTypebox<ControlDeps> = async (app, deps) => {
  moduleAction(app, deps);

  app.post(
    "/api/control/kill-all",
    {
      config: { access: mutation("kill-all") },
      schema: {
        summary: "Kill every module: one request, acked by every agent",
        tags,
        body: ControlBody,
        response: { 202: ControlAccepted },
      },
    },
    async (req, reply) => {
      controlArgs(req.body, Action.kill);
      const args = create(ControlArgsSchema, { kill: true });
      const request = await deps.service.send([Module.arbitrage, Module.mev], Action.kill, args, issuer(req));
      return reply.code(202).send(accepted(request));
    },
  );

  app.post(
    "/api/agents/bundle/retry",
    {
      config: { access: mutation("retry_bundle") },
      schema: {
        summary: "Retry a bundle with a new tip (MEV agents)",
        tags,
        body: BundleRetryBody,
        response: { 202: ControlAccepted },
      },
    },
    async (req, reply) => {
      const args = bundleRetryArgs(req.body);
      const request = await deps.service.send([Module.mev], Action.retry_bundle, args, issuer(req));
      return reply.code(202).send({ ...accepted(request), module: "mev" });
    },
  );

  app.get(
    "/api/control/requests/:id",
    {
      config: { access: READ },
      schema: {
        summary: "A command's request record: pending, then each agent's outcome",
        tags,
        params: Type.Object({ id: Type.String({ description: "request_id" }) }),
        response: { 200: ControlRequestJson },
      },
    },
    async (req) => {
      const request = deps.tracker.get(req.params.id);
      if (!request) {
        throw new HttpError(404, "unknown_request", `no request ${req.params.id} (or it is too old to be kept)`);
      }
      return toWireJson(ControlRequestSchema, request);
    },
  );
};
