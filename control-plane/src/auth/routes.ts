import type { FastifyInstance } from "fastify";
import { badRequest, HttpError } from "../http/errors";
import { RateLimiter } from "./rate-limit";
import type { TokenService } from "./tokens";
import type { UserStore } from "./users";

export function authRoutes(
  app: FastifyInstance,
  deps: { users: UserStore; tokens: TokenService; accessTtlSeconds: number },
): void {
  const limiter = new RateLimiter(10, 60_000);
  app.post("/api/auth/login", async (req) => {
    if (!limiter.take(req.ip)) throw new HttpError(429, "rate_limited", "too many login attempts: wait a minute");
    const body = req.body as { username?: unknown; password?: unknown } | undefined;
    if (!body || typeof body !== "object") throw badRequest("body must be {username, password}");
    const { username, password } = body;
    if (typeof username !== "string" || !username) throw badRequest("username must be a non-empty string");
    if (typeof password !== "string" || !password) throw badRequest("password must be a non-empty string");
    const role = await deps.users.authenticate(username, password);
    if (!role) throw new HttpError(401, "bad_credentials", "wrong username or password");
    const token = await deps.tokens.issue(username, role, deps.accessTtlSeconds);
    return { access_token: token, token_type: "Bearer", role, expires_in: deps.accessTtlSeconds };
  });
}
