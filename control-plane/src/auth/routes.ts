import rateLimit from "@fastify/rate-limit";
import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError } from "../http/errors";
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

/** `POST /api/auth/login`: 10 attempts a minute per client address, counted once the body is parsed. */
export const authRoutes: FastifyPluginAsyncTypebox<AuthDeps> = async (app, deps) => {
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
    async (req) => {
      const { username, password } = req.body;
      const role = await deps.users.authenticate(username, password);
      if (!role) throw new HttpError(401, "bad_credentials", "wrong username or password");
      const token = await deps.tokens.issue(username, role, deps.accessTtlSeconds);
      return { access_token: token, token_type: "Bearer" as const, role, expires_in: deps.accessTtlSeconds };
    },
  );
};
