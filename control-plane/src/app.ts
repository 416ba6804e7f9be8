import cors from "@fastify/cors";
import Fastify, { type FastifyInstance } from "fastify";
import { agentRoutes } from "./agents/routes";
import { accessPlugin } from "./auth/access";
import { authRoutes } from "./auth/routes";
import type { ControlPlaneConfig } from "./config";
import { controlRoutes } from "./control/routes";
import { datasetRoutes } from "./datasets/routes";
import { errorHandler } from "./http/errors";
import { useDepthLimitedJson } from "./http/json";
import { openApiRoute, registerOpenApi, type RouteEntry } from "./http/openapi";
import { formatSchemaErrors, validatorCompiler } from "./http/validation";
import { metricsRoutes } from "./metrics/routes";
import { policyRoutes } from "./policy/routes";
import { queryRoutes } from "./queries/routes";
import type { Services } from "./services";

export const BODY_LIMIT = 64 * 1024;

/** Fastify with the API's parsing, validation and error shape; no routes yet. */
export function createApp(): FastifyInstance {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false, schemaErrorFormatter: formatSchemaErrors });
  app.removeContentTypeParser("text/plain");
  useDepthLimitedJson(app);
  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ ok: false, error: { code: "not_found", message: `no endpoint ${req.method} ${req.url}` } });
  });
  return app;
}

/** Every feature as a plugin, each given what it uses; `routes` receives the route table. */
export async function registerApi(
  app: FastifyInstance,
  config: ControlPlaneConfig,
  s: Services,
  routes: RouteEntry[],
): Promise<void> {
  await registerOpenApi(app, routes);
  await app.register(accessPlugin, { tokens: s.tokens, audit: s.audit });
  await app.register(cors, {
    origin: [...config.corsOrigins],
    allowedHeaders: ["Authorization", "Content-Type", "X-Requested-With"],
    methods: ["GET", "POST"],
  });
  await app.register(authRoutes, { users: s.users, tokens: s.tokens, accessTtlSeconds: config.accessTtlSeconds });
  await app.register(controlRoutes, { service: s.control, tracker: s.tracker });
  await app.register(policyRoutes, { service: s.control, tracker: s.tracker, policies: s.policies });
  await app.register(agentRoutes, { registry: s.registry });
  await app.register(metricsRoutes, { rolling: s.rolling, hub: s.hub, sink: s.sink, tracker: s.tracker });
  await app.register(datasetRoutes, { audit: s.audit, jobs: s.jobs, allowedRoots: config.exportRoots });
  await app.register(queryRoutes, { source: s.querySource });
  await app.register(openApiRoute);
}
