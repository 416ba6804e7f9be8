import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ApiTokenCreated, ApiTokenList, Done, type ApiTokenView } from "@mevlab/kernel-helpers";
import type { AuditLog } from "../audit/log";
import { HttpError } from "../http/errors";
import { StringEnum, type Api } from "../http/typebox";
import { READ } from "./access";
import type { ApiTokenRecord, SessionStore } from "./sessions";
import { newTokenId, type TokenService } from "./tokens";
import type { UserRole, UserStore } from "./users";

export interface ApiTokenDeps {
  users: UserStore;
  tokens: TokenService;
  sessions: SessionStore;
  audit: AuditLog;
}

const tags = ["auth"];
/** Per user: a notebook needs one or two; this only stops a runaway loop. */
const MAX_PER_USER = 100;
const DAY_MS = 24 * 3600 * 1000;

const CreateBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: "^[A-Za-z0-9 ._@:-]+$",
      "x-error": "name must be 1-64 of A-Z a-z 0-9 space . _ @ : -",
    }),
    role: Type.Optional(StringEnum(["admin", "viewer"] as const, { "x-error": "role must be admin or viewer" })),
    expires_in_days: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 365, default: 90, "x-error": "expires_in_days must be an integer 1-365" }),
    ),
  },
  { additionalProperties: false, "x-error": "body must be {name, role?, expires_in_days?}" },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const view = (t: ApiTokenRecord): ApiTokenView => ({
  id: t.id,
  name: t.name,
  role: t.role,
  created_at: new Date(t.created_at).toISOString(),
  expires_at: new Date(t.expires_at).toISOString(),
  ...(t.last_used_at ? { last_used_at: new Date(t.last_used_at).toISOString() } : {}),
});

/** `POST /api/auth/tokens`: of the caller's role or below; an API token cannot create another. */
function createRoute(app: Api, deps: ApiTokenDeps): void {
  app.post(
    "/api/auth/tokens",
    {
      config: { access: { roles: ["admin", "viewer"], mutation: "auth.token.create" } },
      schema: {
        summary: "Create a named API token (shown once) for yourself, of your role or below",
        tags,
        body: CreateBody,
        response: { 201: ApiTokenCreated },
      },
    },
    async (req, reply) => {
      const who = req.principal!;
      if (who.kind === "api") throw new HttpError(403, "forbidden", "an API token cannot create API tokens: log in");
      const role: UserRole = req.body.role ?? (who.role as UserRole);
      if (who.role === "viewer" && role === "admin") {
        throw new HttpError(403, "forbidden", "a viewer may create viewer tokens only");
      }
      const mine = deps.sessions.apiTokensOf(who.sub);
      if (mine.some((t) => t.name === req.body.name)) {
        throw new HttpError(
          409,
          "conflict",
          `you have a token named '${req.body.name}': revoke it or pick another name`,
        );
      }
      if (mine.length >= MAX_PER_USER)
        throw new HttpError(409, "conflict", `at most ${MAX_PER_USER} API tokens per user`);
      const days = req.body.expires_in_days ?? 90;
      const now = Date.now();
      const record = {
        id: newTokenId(),
        name: req.body.name,
        user: who.sub,
        role,
        created_at: now,
        expires_at: now + days * DAY_MS,
      };
      const ver = deps.users.get(who.sub)?.token_version ?? 0;
      const token = await deps.tokens.issue(who.sub, role, days * 24 * 3600, { jti: record.id, kind: "api", ver });
      deps.sessions.addApiToken(record);
      deps.audit.write({
        user: who.sub,
        role: who.role,
        action: "auth.token.create",
        target: `api token ${record.id} '${record.name}' (${role}, ${days} days)`,
        outcome: "accepted",
        ip: req.ip,
      });
      return reply.code(201).send({ ok: true as const, token, api_token: view(record) });
    },
  );
}

/**
 * Named API tokens for notebooks (`MEVLAB_API_TOKEN`): a user creates them for themself, lists and
 * revokes them. The token is shown once; only its record is kept, and a token whose record is gone
 * is refused (revocation.ts).
 */
export const apiTokenRoutes: FastifyPluginAsyncTypebox<ApiTokenDeps> = async (app, deps) => {
  createRoute(app, deps);
  app.get(
    "/api/auth/tokens",
    {
      config: { access: READ },
      schema: { summary: "Your API tokens (never the tokens themselves)", tags, response: { 200: ApiTokenList } },
    },
    async (req) => ({ tokens: deps.sessions.apiTokensOf(req.principal!.sub).map(view) }),
  );

  app.delete(
    "/api/auth/tokens/:id",
    {
      config: { access: { roles: ["admin", "viewer"], mutation: "auth.token.revoke" } },
      schema: {
        summary: "Revoke one of your API tokens: refused at once, its sockets closed",
        tags,
        params: IdParams,
        response: { 200: Done },
      },
    },
    async (req) => {
      const who = req.principal!;
      if (!deps.sessions.removeApiToken(req.params.id, who.sub)) {
        throw new HttpError(404, "not_found", `you have no API token ${req.params.id}`);
      }
      deps.audit.write({
        user: who.sub,
        role: who.role,
        action: "auth.token.revoke",
        target: `api token ${req.params.id}`,
        outcome: "accepted",
        ip: req.ip,
      });
      return { ok: true as const };
    },
  );
};
