import swagger from "@fastify/swagger";
import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ErrorBody } from "@mevlab/kernel-helpers";
import type { FastifyInstance, FastifySchema, RouteOptions } from "fastify";
import type { Access } from "../auth/access";

/** A route of Fastify's table, as `onRoute` saw it. */
export interface RouteEntry {
  method: string;
  url: string;
}

const WEBSOCKETS = [
  {
    path: "/api/realtime/ws",
    subprotocols: ["mevlab.v1", "bearer.<token>"],
    roles: ["admin", "viewer"],
    description: "live streams: Subscribe, then Hello, Gap and Batch frames (NDJSON or protobuf)",
  },
  {
    path: "/api/bus/ws",
    subprotocols: ["mevlab.link.v1", "bearer.<agent token>"],
    roles: ["agent"],
    description: "the agents' bus link (proto/TOPICS.md)",
  },
];

const DESCRIPTION = [
  "The mevlab control plane: control commands, policies, agents, metrics, datasets and curated queries.",
  "Every route needs `Authorization: Bearer <token>` (from POST /api/auth/login) except login; its roles",
  "are in `x-roles`; where that lists `agent`, `x-agents: own-module` says an agent gets only what belongs to",
  "its own module. Mutations need the admin role and the header `X-Requested-With: mevlab`. Errors are",
  "`{ok: false, error: {code, message}}`. The WebSocket endpoints are upgrades outside this router",
  "(listed in `x-websockets`): the token goes in `Sec-WebSocket-Protocol` as `bearer.<token>` (or `?token=`).",
].join(" ");

function accessOf(route: RouteOptions): Access | undefined {
  return route.config?.access;
}

/** Each operation says who may call it; errors are described once for all. */
function transform({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }) {
  const access = accessOf(route);
  const extra =
    access === "public" || access === undefined
      ? { security: [] }
      : {
          "x-roles": access.roles,
          ...(access.mutation ? { "x-mutation": access.mutation } : {}),
          ...(access.agents ? { "x-agents": access.agents } : {}),
        };
  const response = { ...(schema?.response as object), "4xx": ErrorBody };
  return { url, schema: { ...schema, ...extra, response } as FastifySchema };
}

type BodySchema = { default?: unknown; required?: string[]; type?: unknown };
type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: BodySchema }> } };

/**
 * Fastify hands a body's validator null for an absent body, so a body schema's default stands in
 * for both an absent and a null body (validation.ts): such a body may be left out, or be null, where
 * the default is valid, i.e. nothing is required (@fastify/swagger marks every body required).
 */
const optionalBody = (schema: BodySchema | undefined) => schema?.default !== undefined && !schema.required?.length;

/** Bodies that may be left out or null (optionalBody); the sockets. */
function finish<D extends { paths?: object }>(doc: D): D {
  for (const ops of Object.values(doc.paths ?? {}) as Record<string, Operation>[]) {
    for (const op of Object.values(ops)) {
      const body = op.requestBody;
      const contents = Object.values(body?.content ?? {});
      if (!body || !contents.every((c) => optionalBody(c.schema))) continue;
      body.required = false;
      for (const c of contents) c.schema = { ...c.schema, type: ["object", "null"] };
    }
  }
  return Object.assign(doc, { "x-websockets": WEBSOCKETS });
}

/**
 * @fastify/swagger, fed by every route's schemas; and an onRoute hook that keeps Fastify's route
 * table in `routes` (so a test can check that the document misses none). Registered before any route.
 */
export async function registerOpenApi(app: FastifyInstance, routes: RouteEntry[]): Promise<void> {
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "mevlab control plane", version: "1", description: DESCRIPTION },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
      security: [{ bearer: [] }],
    },
    transform,
    transformObject: (doc) => finish("openapiObject" in doc ? doc.openapiObject : {}),
  });
}

/** `GET /api/openapi.json`: the document, for admin and viewer tokens. */
export const openApiRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/api/openapi.json",
    {
      config: { access: { roles: ["admin", "viewer"] } },
      schema: {
        summary: "This document (OpenAPI 3.1)",
        tags: ["meta"],
        response: {
          200: Type.Object(
            { openapi: Type.String(), paths: Type.Record(Type.String(), Type.Unknown()) },
            { additionalProperties: true },
          ),
        },
      },
    },
    async () => app.swagger() as unknown as { openapi: string; paths: Record<string, unknown> },
  );
};
