import rateLimit from "@fastify/rate-limit";
import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Done, LoginResponse, WhoAmI } from "@mevlab/kernel-helpers";
import type { AuditLog } from "../audit/log";
import { HttpError } from "../http/errors";
import type { Api } from "../http/typebox";
import { READ } from "./access";
import { AccountLimit } from "./login-limit";
import type { SessionStore } from "./sessions";
import type { TokenService } from "./tokens";
import type { UserRole, UserStore } from "./users";

export interface AuthDeps {
  users: UserStore;
  tokens: TokenService;
  sessions: SessionStore;
  audit: AuditLog;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const tags = ["auth"];
const nonEmpty = (field: string) => Type.String({ minLength: 1, "x-error": `${field} must be a non-empty string` });

const LoginBody = Type.Object(
  { username: nonEmpty("username"), password: nonEmpty("password") },
  { additionalProperties: false, "x-error": "body must be {username, password}" },
);

const RefreshBody = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 512, "x-error": "refresh_token must be a string" }) },
  { additionalProperties: false, "x-error": "body must be {refresh_token}" },
);

const EmptyBody = Type.Object({}, { additionalProperties: false, default: {}, "x-error": "body must be {}" });

/** An access token of a session and the answer that carries it with the session's refresh token. */
async function sessionTokens(
  deps: AuthDeps,
  session: { id: string; user: string; role: UserRole; ver: number },
  refreshToken: string,
): Promise<LoginResponse> {
  const access = await deps.tokens.issue(session.user, session.role, deps.accessTtlSeconds, {
    sid: session.id,
    ver: session.ver,
  });
  return {
    access_token: access,
    token_type: "Bearer",
    role: session.role,
    expires_in: deps.accessTtlSeconds,
    refresh_token: refreshToken,
    refresh_expires_in: deps.refreshTtlSeconds,
  };
}

/**
 * `POST /api/auth/login`: 10 attempts a minute per client address, counted once the body is parsed,
 * and 10 failures per username in 15 minutes (AccountLimit). A failed or refused login is audited
 * (coalesced per address and minute: RefusalLog). It starts a session (sessions.ts).
 */
function loginRoute(app: Api, deps: AuthDeps): void {
  const accounts = new AccountLimit();
  const refuse = (req: { ip: string }, username: string, reason: string) =>
    app.refusals.record({
      user: username,
      role: "anonymous",
      action: "auth.login",
      target: "/api/auth/login",
      reason,
      ip: req.ip,
    });
  app.post(
    "/api/auth/login",
    {
      config: { access: "public", rateLimit: { max: 10, timeWindow: 60_000 } },
      schema: {
        summary: "Log in: a short-lived access token and a refresh token",
        tags,
        body: LoginBody,
        response: { 200: LoginResponse },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const waitMs = accounts.retryAfterMs(username);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        refuse(req, username, "too many failed logins for this account");
        void reply.header("retry-after", String(seconds));
        throw new HttpError(429, "rate_limited", `too many failed logins for this account: try again in ${seconds} s`);
      }
      // Counted before the password is checked, so that concurrent guesses cannot pass the limit together.
      accounts.failed(username);
      const role = await deps.users.authenticate(username, password);
      if (!role) {
        refuse(req, username, "wrong username or password");
        throw new HttpError(401, "bad_credentials", "wrong username or password");
      }
      accounts.succeeded(username);
      const ver = deps.users.get(username)?.token_version ?? 0;
      const accessExpiresAt = Date.now() + deps.accessTtlSeconds * 1000;
      const { session, refreshToken } = deps.sessions.start(username, role, ver, accessExpiresAt);
      return sessionTokens(deps, session, refreshToken);
    },
  );
}

/**
 * `POST /api/auth/refresh`: the refresh token for a new access token and the next refresh token.
 * A refresh token used twice revokes its session (audited): one of the two holders stole it.
 */
function refreshRoute(app: Api, deps: AuthDeps): void {
  app.post(
    "/api/auth/refresh",
    {
      config: { access: "public", rateLimit: { max: 60, timeWindow: 60_000 } },
      schema: {
        summary: "Exchange a refresh token (once) for a new access token and refresh token",
        tags,
        body: RefreshBody,
        response: { 200: LoginResponse },
      },
    },
    async (req) => {
      const result = deps.sessions.refresh(req.body.refresh_token, Date.now() + deps.accessTtlSeconds * 1000);
      if (!result.ok) {
        const reused = result.reused;
        const refusal = { action: "auth.refresh", target: "/api/auth/refresh", reason: result.reason, ip: req.ip };
        if (reused) {
          const target = `session ${reused.id.slice(0, 8)}`;
          deps.audit.write({ ...refusal, user: reused.user, role: reused.role, target, outcome: "denied" });
        } else app.refusals.record({ ...refusal, user: "anonymous", role: "anonymous" });
        throw new HttpError(401, "unauthenticated", result.reason);
      }
      const { session } = result;
      const refused = deps.tokens.refused({ sub: session.user, role: session.role, exp: 0, ver: session.ver });
      if (refused) {
        deps.sessions.revoke(session.id, refused);
        throw new HttpError(401, "unauthenticated", refused);
      }
      return sessionTokens(deps, session, result.refreshToken);
    },
  );
}

/** `POST /api/auth/logout`: ends the session of the presented token (or revokes an API token). */
function logoutRoute(app: Api, deps: AuthDeps): void {
  app.post(
    "/api/auth/logout",
    {
      config: { access: { roles: ["admin", "viewer"], mutation: "auth.logout" } },
      schema: {
        summary: "Log out: the session's refresh and access tokens are refused from now on",
        tags,
        body: EmptyBody,
        response: { 200: Done },
      },
    },
    async (req) => {
      const who = req.principal!;
      if (who.sid) deps.sessions.revoke(who.sid, "logged out");
      if (who.kind === "api" && who.jti) deps.sessions.removeApiToken(who.jti, who.sub);
      if (who.jti) deps.sessions.deny(who.jti, who.exp);
      deps.audit.write({
        user: who.sub,
        role: who.role,
        action: "auth.logout",
        target: who.sid ? `session ${who.sid.slice(0, 8)}` : `token ${(who.jti ?? "").slice(0, 8)}`,
        outcome: "accepted",
        ip: req.ip,
      });
      return { ok: true as const };
    },
  );
}

/** `GET /api/auth/me`: the user, role and expiry of the presented token (what `MEVLAB_API_TOKEN` is). */
function meRoute(app: Api): void {
  app.get(
    "/api/auth/me",
    { config: { access: READ }, schema: { summary: "Who the presented token is", tags, response: { 200: WhoAmI } } },
    async (req) => {
      const who = req.principal!;
      return {
        user: who.sub,
        role: who.role as UserRole,
        kind: who.kind === "api" ? ("api" as const) : who.sid ? ("session" as const) : ("token" as const),
        expires_at: who.exp * 1000,
      };
    },
  );
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthDeps> = async (app, deps) => {
  await app.register(rateLimit, {
    global: false,
    hook: "preValidation",
    keyGenerator: (req) => req.ip,
    addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
    errorResponseBuilder: (req) =>
      new HttpError(
        429,
        "rate_limited",
        `too many ${req.url.endsWith("/login") ? "login " : ""}attempts: wait a minute`,
      ),
  });
  loginRoute(app, deps);
  refreshRoute(app, deps);
  logoutRoute(app, deps);
  meRoute(app);
};
