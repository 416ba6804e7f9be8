import rateLimit from "@fastify/rate-limit";
import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError } from "../http/errors";
import { AccountLimit } from "./login-limit";
import type { TokenService } from "./tokens";
import type { UserStore } from "./users";

export interface AuthDeps {
  users: UserStore;
  tokens: TokenService;
  accessTtlSeconds: number;
}

const nonEmpty = (field: string) => Type.String({ minLength: 1, "x-error": `${field} must be a non-empty string` });

const LoginBody = Type.Object(
  { username: nonEmpty("username"), password: nonEmpty("password") },
  { additionalProperties: false, "x-error": "body must be {username, password}" },
);

const LoginResponse = Type.Object(
  {
    access_token: Type.String({ description: "JWT; send as `Authorization: Bearer <token>`" }),
    token_type: Type.Literal("Bearer"),
    role: Type.Union([Type.Literal("admin"), Type.Literal("viewer")]),
    expires_in: Type.Integer({ description: "seconds" }),
  },
  { additionalProperties: false },
);

/**
 * `POST /api/auth/login`: 10 attempts a minute per client address, counted once the body is parsed,
 * and 10 failures per username in 15 minutes (AccountLimit). A failed or refused login is audited
 * (coalesced per address and minute: RefusalLog).
 */
export const authRoutes: FastifyPluginAsyncTypebox<AuthDeps> = async (app, deps) => {
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
  await app.register(rateLimit, {
    global: false,
    hook: "preValidation",
    keyGenerator: (req) => req.ip,
    addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
    errorResponseBuilder: () => new HttpError(429, "rate_limited", "too many login attempts: wait a minute"),
  });
  app.post(
    "/api/auth/login",
    {
      config: { access: "public", rateLimit: { max: 10, timeWindow: 60_000 } },
      schema: {
        summary: "Log in: a short-lived access token",
        tags: ["auth"],
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
      const token = await deps.tokens.issue(username, role, deps.accessTtlSeconds);
      return { access_token: token, token_type: "Bearer" as const, role, expires_in: deps.accessTtlSeconds };
    },
  );
};
