import cors from "@fastify/cors";
import Fastify, { type FastifyInstance } from "fastify";
import { agentRoutes } from "./agents/routes";
import { authRoutes } from "./auth/routes";
import type { ControlPlaneConfig } from "./config";
import { controlRoutes } from "./control/routes";
import { datasetRoutes } from "./datasets/routes";
import { errorHandler } from "./http/errors";
import { useDepthLimitedJson } from "./http/json";
import { metricsRoutes } from "./metrics/routes";
import { policyRoutes } from "./policy/routes";
import { queryRoutes } from "./queries/routes";
import type { Services } from "./services";

export const BODY_LIMIT = 64 * 1024;

/** Fastify with the API's parsing and error shape; no routes yet. */
export function createApp(): FastifyInstance {
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
  app.removeContentTypeParser("text/plain");
  useDepthLimitedJson(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ ok: false, error: { code: "not_found", message: `no endpoint ${req.method} ${req.url}` } });
  });
  return app;
}

/** Every feature's routes, each given what it uses. */
export async function registerApi(app: FastifyInstance, config: ControlPlaneConfig, s: Services): Promise<void> {
  await app.register(cors, {
    origin: [...config.corsOrigins],
    allowedHeaders: ["Authorization", "Content-Type", "X-Requested-With"],
    methods: ["GET", "POST"],
  });
  authRoutes(app, { users: s.users, tokens: s.tokens, accessTtlSeconds: config.accessTtlSeconds });
  const control = { tokens: s.tokens, audit: s.audit, service: s.control, tracker: s.tracker };
  controlRoutes(app, control);
  policyRoutes(app, { ...control, policies: s.policies });
  agentRoutes(app, { tokens: s.tokens, registry: s.registry });
  metricsRoutes(app, { tokens: s.tokens, rolling: s.rolling, hub: s.hub, sink: s.sink, tracker: s.tracker });
  datasetRoutes(app, { tokens: s.tokens, audit: s.audit, jobs: s.jobs, allowedRoots: config.exportRoots });
  queryRoutes(app, { tokens: s.tokens, source: s.querySource });
}
