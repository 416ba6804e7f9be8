import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import fp from "fastify-plugin";
import type { AuditLog } from "../audit/log";
import { RefusalLog } from "../audit/refusals";
import { HttpError } from "../http/errors";
import { authenticate } from "./guard";
import type { Principal, Role, TokenService } from "./tokens";

/** Who may call a route; every route declares it as `config.access`. */
export type Access =
  | "public"
  | {
      /** Roles whose token is accepted. */
      roles: readonly Role[];
      /** A mutation, named in refusals and in the audit log: it also needs `X-Requested-With: mevlab`. */
      mutation?: string;
      /**
       * The one way a route admits the agent role: each agent only to what belongs to its own module
       * (its token's `module` claim), which the handler checks against `agentModule(req)`.
       */
      agents?: "own-module";
      /** Checked when the request arrives, before its body is read: for routes that take large bodies. */
      beforeBody?: boolean;
    };

/** Reads are for people: an agent's token opens its bus link and nothing else. */
export const READ: Access = { roles: ["admin", "viewer"] };

/** A read agents make too, of what belongs to their own module (a promoted model): the handler checks the module. */
export const MODULE_READ: Access = { roles: ["admin", "viewer", "agent"], agents: "own-module" };

export const mutation = (name: string, options: { beforeBody?: boolean } = {}): Access => ({
  roles: ["admin"],
  mutation: name,
  ...options,
});

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The verified token's subject and role; null on public routes. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Where refusals of anonymous callers are audited (failed logins, bad tokens), coalesced per address. */
    refusals: RefusalLog;
  }
}

/** The caller of an authenticated route, as the control service and the audit log name it. */
export function issuer(req: FastifyRequest): { user: string; role: Role; ip: string } {
  if (!req.principal) throw new Error(`route ${req.routeOptions.url} is not authenticated`);
  return { user: req.principal.sub, role: req.principal.role, ip: req.ip };
}

/**
 * The module an agent caller may act for (its token's claim, checked by the access hook); undefined
 * for people, who see every module.
 */
export function agentModule(req: FastifyRequest): "arbitrage" | "mev" | undefined {
  const who = req.principal;
  if (who?.role !== "agent") return undefined;
  if (who.module !== "arbitrage" && who.module !== "mev") throw new Error("an agent principal without a module");
  return who.module;
}

/** @fastify/cors answers preflights before any hook; its catch-all route needs no token. */
const isCorsPreflightRoute = (route: RouteOptions) => route.method === "OPTIONS" && route.url === "*";

function declareAccess(route: RouteOptions): void {
  const access = route.config?.access;
  const name = `route ${String(route.method)} ${route.url}`;
  if (access !== undefined) {
    // Agents are untrusted peers: a route opens to them only in the narrow form, and never to change anything.
    if (access !== "public" && access.roles.includes("agent") && (access.agents !== "own-module" || access.mutation)) {
      throw new Error(`${name} admits the agent role: only reads may, declared with agents: "own-module"`);
    }
    return;
  }
  if (!isCorsPreflightRoute(route)) throw new Error(`${name} declares no config.access`);
  route.config = { ...route.config, access: "public" };
}

/**
 * The principal of a request's bearer token. A token that is presented and refused (bad, expired,
 * malformed header) is audited, coalesced per address; a request with no token at all is not.
 */
async function authenticated(req: FastifyRequest, tokens: TokenService, refusals: RefusalLog): Promise<Principal> {
  try {
    return await authenticate(req.headers.authorization, tokens);
  } catch (err) {
    if (req.headers.authorization) {
      refusals.record({
        user: "anonymous",
        role: "anonymous",
        action: "auth.token",
        target: `${req.method} ${req.routeOptions.url ?? req.url}`,
        reason: (err as Error).message,
        ip: req.ip,
      });
    }
    throw err;
  }
}

/**
 * The check of a request against its route's access: the token, the role the route declares, an
 * agent's module claim, and for mutations the X-Requested-With header. A refusal after authentication
 * is audited. Once passed, `req.principal` is set and a second call does nothing.
 */
function accessCheck(deps: { tokens: TokenService; audit: AuditLog }, refusals: RefusalLog) {
  return async (req: FastifyRequest): Promise<void> => {
    // undefined only for the not-found handler, which is no route.
    const access = req.routeOptions.config.access;
    if (access === undefined || access === "public" || req.principal) return;
    const who = await authenticated(req, deps.tokens, refusals);
    const action = access.mutation ?? `read ${req.routeOptions.url}`;
    const deny = (code: string, reason: string): HttpError => {
      deps.audit.write({
        user: who.sub,
        role: who.role,
        action,
        target: req.url,
        outcome: "denied",
        reason,
        ip: req.ip,
      });
      return new HttpError(403, code, reason);
    };
    if (!access.roles.includes(who.role)) {
      throw deny("forbidden", `role '${who.role}' may not ${action}: needs ${access.roles.join(" or ")}`);
    }
    if (who.role === "agent" && who.module !== "arbitrage" && who.module !== "mev") {
      throw deny("forbidden", "this agent token names no module: mint a credential with mevlab agent-credential");
    }
    if (access.mutation && req.headers["x-requested-with"] !== "mevlab") {
      throw deny("csrf", "missing header X-Requested-With: mevlab (required on every mutation)");
    }
    req.principal = who;
  };
}

/**
 * Authentication in one hook, after the body is parsed and before it is validated (so a caller
 * without a token gets 401 and a viewer 403, whatever the body); on a route that declares
 * `beforeBody`, as the request arrives. A refused token is audited, coalesced per address.
 */
async function accessControl(app: FastifyInstance, deps: { tokens: TokenService; audit: AuditLog }): Promise<void> {
  const refusals = new RefusalLog(deps.audit);
  app.decorate("refusals", refusals);
  // Registered after the audit log's own hook, so run before it: the summaries are written while it is open.
  app.addHook("onClose", async () => refusals.stop());
  app.decorateRequest("principal", null);
  app.addHook("onRoute", declareAccess);
  const check = accessCheck(deps, refusals);
  app.addHook("onRequest", async (req) => {
    const access = req.routeOptions.config.access;
    if (access !== undefined && access !== "public" && access.beforeBody) await check(req);
  });
  app.addHook("preValidation", check);
}

export const accessPlugin = fp(accessControl, { name: "mevlab-access", fastify: "5.x" });
