import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ControlAccepted } from "@mevlab/kernel-helpers";
import { Module } from "@mevlab/proto";
import { READ, issuer, mutation } from "../auth/access";
import { accepted } from "../control/routes";
import { ModuleParams } from "../control/schemas";
import { HttpError, badRequest } from "../http/errors";
import { endShadow, lineageView, promote, type PromotionDeps } from "./promote";
import {
  LineageQuery,
  LineageVersionParams,
  LineageVersionQuery,
  LineageView,
  PromoteBody,
  ShadowEndBody,
  ShadowViewSchema,
} from "./promote-schemas";

const tags = ["policy"];

/** Promotion live or in shadow, the shadow's end, and (readRoutes) what was in force when, and why. */
export const promotionRoutes: FastifyPluginAsyncTypebox<PromotionDeps> = async (app, deps) => {
  await app.register(readRoutes, deps);
  app.post(
    "/api/policy/promote",
    {
      config: { access: mutation("policy.promote") },
      schema: {
        summary: "Promote a model and its policy, live or in shadow, with lineage",
        tags,
        body: PromoteBody,
        response: { 202: ControlAccepted },
      },
    },
    async (req, reply) => {
      const body = req.body;
      const { policy, request } = await promote(deps, { ...body, mode: body.mode ?? "live" }, issuer(req));
      return reply
        .code(202)
        .send({ ...accepted(request), module: body.module, policy_version: Number(policy.version) });
    },
  );

  for (const action of ["promote", "drop"] as const) {
    app.post(
      `/api/shadow/:module/${action}`,
      {
        config: { access: mutation(`shadow.${action}`) },
        schema: {
          summary: action === "promote" ? "Make the shadow candidate the live model" : "Drop the shadow candidate",
          tags,
          params: ModuleParams,
          body: ShadowEndBody,
          response: { 202: ControlAccepted },
        },
      },
      async (req, reply) => {
        const { policy, request } = await endShadow(
          deps,
          req.params.module,
          action,
          req.body.reason ?? "",
          issuer(req),
        );
        return reply
          .code(202)
          .send({ ...accepted(request), module: req.params.module, policy_version: Number(policy.version) });
      },
    );
  }
};

/** The shadow comparison and the lineage (people: admin and viewer). */
const readRoutes: FastifyPluginAsyncTypebox<PromotionDeps> = async (app, deps) => {
  app.get(
    "/api/shadow/:module",
    {
      config: { access: READ },
      schema: {
        summary: "Live against shadow on the same opportunities: counterfactual EV, calibration, agreement",
        tags,
        params: ModuleParams,
        response: { 200: ShadowViewSchema },
      },
    },
    async (req) => {
      const current = deps.policies.current(Module[req.params.module]);
      return deps.shadow.view(req.params.module, current.shadow?.modelId || undefined);
    },
  );

  app.get(
    "/api/lineage",
    {
      config: { access: READ },
      schema: {
        summary: "What was in force for a module at a time: policy, model, dataset, who and why, which agents acked",
        tags,
        querystring: LineageQuery,
        response: { 200: LineageView },
      },
    },
    async (req) => {
      const module = Module[req.query.module];
      const raw = req.query.at;
      const at = raw === undefined ? Date.now() : /^[0-9]+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (!Number.isFinite(at)) throw badRequest(`at: '${raw}' is not a time`);
      const policy = deps.policies.at(module, at);
      if (!policy)
        throw new HttpError(404, "no_version", `${req.query.module} had no policy at ${new Date(at).toISOString()}`);
      return lineageView(deps, module, policy);
    },
  );

  app.get(
    "/api/lineage/:version",
    {
      config: { access: READ },
      schema: {
        summary: "One policy version's whole chain",
        tags,
        params: LineageVersionParams,
        querystring: LineageVersionQuery,
        response: { 200: LineageView },
      },
    },
    async (req) => {
      const module = Module[req.query.module];
      const policy = deps.policies.find(module, BigInt(req.params.version));
      if (!policy)
        throw new HttpError(404, "unknown_version", `${req.query.module} has no policy version ${req.params.version}`);
      return lineageView(deps, module, policy);
    },
  );
};
