import type { FastifyRequest } from "fastify";
import { HttpError } from "../http/errors";
import type { AuditLog } from "../audit/log";
import type { Principal, Role, TokenService } from "./tokens";

/** Extracts and verifies the bearer token; 401 with the reason when absent or invalid. */
export async function authenticate(req: FastifyRequest, tokens: TokenService): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header) throw new HttpError(401, "unauthenticated", "missing Authorization: Bearer <token>; log in first");
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HttpError(401, "unauthenticated", "Authorization header must be 'Bearer <token>'");
  try {
    return await tokens.verify(match[1]);
  } catch (err) {
    throw new HttpError(401, "unauthenticated", (err as Error).message);
  }
}

/**
 * Guards a mutation: a valid token of an allowed role and the X-Requested-With header. A refusal
 * after authentication is written to the audit log too.
 */
export async function authorizeMutation(
  req: FastifyRequest,
  tokens: TokenService,
  audit: AuditLog,
  action: string,
  roles: readonly Role[] = ["admin"],
): Promise<Principal> {
  const who = await authenticate(req, tokens);
  const deny = (status: number, code: string, reason: string): HttpError => {
    audit.write({ user: who.sub, role: who.role, action, target: req.url, outcome: "denied", reason, ip: req.ip });
    return new HttpError(status, code, reason);
  };
  if (!roles.includes(who.role))
    throw deny(403, "forbidden", `role '${who.role}' may not ${action}: needs ${roles.join(" or ")}`);
  if (req.headers["x-requested-with"] !== "mevlab") {
    throw deny(403, "csrf", "missing header X-Requested-With: mevlab (required on every mutation)");
  }
  return who;
}

/** Token from `Sec-WebSocket-Protocol: <proto>, bearer.<jwt>` or from `?token=`. */
export function wsToken(protocolHeader: string | undefined, url: string | undefined): string | undefined {
  for (const p of (protocolHeader ?? "").split(",")) {
    const t = p.trim();
    if (t.startsWith("bearer.")) return t.slice("bearer.".length);
  }
  const q = new URL(url ?? "/", "http://x").searchParams.get("token");
  return q ?? undefined;
}
