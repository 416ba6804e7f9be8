import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import Fastify, { type FastifyInstance } from "fastify";
import { agentRoutes } from "./agents/routes";
import { accessPlugin } from "./auth/access";
import { apiTokenRoutes } from "./auth/api-tokens";
import { authRoutes } from "./auth/routes";
import type { ControlPlaneConfig } from "./config";
import { auditRoutes } from "./audit/routes";
import { controlRoutes } from "./control/routes";
import { datasetRoutes } from "./datasets/routes";
import { trainingRoutes } from "./training/routes";
import { errorHandler } from "./http/errors";
import { useDepthLimitedJson } from "./http/json";
import { loggingOptions } from "./http/logging";
import { openApiRoute, registerOpenApi, type RouteEntry } from "./http/openapi";
import { formatSchemaErrors, validatorCompiler } from "./http/validation";
import { metricsRoutes } from "./metrics/routes";
import { openModelStore } from "./models/open";
import { modelRoutes } from "./models/routes";
import { promotionRoutes } from "./policy/promote-routes";
import { policyRoutes } from "./policy/routes";
import { queryRoutes } from "./queries/routes";
import type { Services } from "./services";

export const BODY_LIMIT = 64 * 1024;
/** How long a keep-alive connection may wait for its next request. */
const KEEP_ALIVE_MS = 10_000;

/** What createApp reads of the configuration. */
export type AppSettings = Pick<
  ControlPlaneConfig,
  "logLevel" | "logStream" | "httpRequestTimeoutMs" | "httpHeadersTimeoutMs" | "httpIdleTimeoutMs"
>;

/**
 * Headers for a JSON API: nothing may frame it or run in it (`default-src 'none'`), no sniffing, no
 * referrer. JupyterLab calls it cross-origin under CORS, which these do not touch. No HSTS: the
 * control plane speaks plain HTTP, and a TLS proxy in front of it owns that header.
 */
const SECURITY_HEADERS = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  strictTransportSecurity: false,
} as const;

/**
 * Fastify's server options for slow clients: the whole request (headers and body) within
 * httpRequestTimeoutMs, headers within httpHeadersTimeoutMs, no socket idle longer than
 * httpIdleTimeoutMs. Node checks the first two on a timer: checked often enough that a cut-off is
 * not up to 30 s (its default) late.
 */
function timeouts(s: AppSettings) {
  const headersTimeout = Math.min(s.httpHeadersTimeoutMs, s.httpRequestTimeoutMs);
  return {
    requestTimeout: s.httpRequestTimeoutMs,
    connectionTimeout: s.httpIdleTimeoutMs,
    keepAliveTimeout: Math.min(KEEP_ALIVE_MS, s.httpIdleTimeoutMs),
    http: {
      requestTimeout: s.httpRequestTimeoutMs,
      headersTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(headersTimeout / 2))),
    },
  };
}

/** Fastify with the API's parsing, validation, error shape, headers, log and timeouts; no routes yet. */
export function createApp(settings: AppSettings): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    schemaErrorFormatter: formatSchemaErrors,
    // What the router refuses before any route runs (a path parameter over 100 characters, a bad
    // percent-encoding) answers in the API's error shape too, not Fastify's own.
    frameworkErrors: errorHandler,
    ...loggingOptions(settings.logLevel, settings.logStream),
    ...timeouts(settings),
  });
  void app.register(helmet, SECURITY_HEADERS);
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
    methods: ["GET", "POST", "DELETE"],
  });
  const auth = { users: s.users, tokens: s.tokens, sessions: s.sessions, audit: s.audit };
  // The model store: uploads and downloads here, and what promotions check a model against.
  const models = openModelStore(config);
  app.addHook("onClose", () => models.close());
  await app.register(authRoutes, {
    ...auth,
    accessTtlSeconds: config.accessTtlSeconds,
    refreshTtlSeconds: config.refreshTtlSeconds,
  });
  await app.register(apiTokenRoutes, auth);
  await app.register(controlRoutes, { service: s.control, tracker: s.tracker });
  const promotion = {
    service: s.control,
    tracker: s.tracker,
    policies: s.policies,
    lineage: s.lineage,
    models,
    shadow: s.shadow,
  };
  await app.register(policyRoutes, promotion);
  await app.register(promotionRoutes, promotion);
  await app.register(agentRoutes, { registry: s.registry });
  await app.register(metricsRoutes, { rolling: s.rolling, hub: s.hub, sink: s.sink, tracker: s.tracker });
  await app.register(datasetRoutes, { audit: s.audit, jobs: s.jobs, allowedRoots: config.exportRoots });
  await app.register(trainingRoutes, { audit: s.audit, jobs: s.jobs, dataDir: config.dataDir });
  await app.register(modelRoutes, { audit: s.audit, store: models, maxBytes: config.modelMaxBytes });
  await app.register(queryRoutes, { source: s.querySource });
  await app.register(auditRoutes, { config });
  await app.register(openApiRoute);
}
