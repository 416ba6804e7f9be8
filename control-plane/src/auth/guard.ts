import { HttpError } from "../http/errors";
import type { Principal, TokenService } from "./tokens";

/** Verifies the bearer token of an `Authorization` header; 401 with the reason when absent or invalid. */
export async function authenticate(header: string | undefined, tokens: TokenService): Promise<Principal> {
  if (!header) throw new HttpError(401, "unauthenticated", "missing Authorization: Bearer <token>; log in first");
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HttpError(401, "unauthenticated", "Authorization header must be 'Bearer <token>'");
  try {
    return await tokens.verify(match[1]);
  } catch (err) {
    throw new HttpError(401, "unauthenticated", (err as Error).message);
  }
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
