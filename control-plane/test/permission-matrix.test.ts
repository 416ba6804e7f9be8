// Who may call what, proven route by route: every route of Fastify's table and every WebSocket
// endpoint, called by every kind of caller, against a table written here. A route (or socket) that
// the table does not list fails the test, so adding one forces a decision about who may call it.
// How to add a row: docs/development.md, "The permission matrix".
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import WebSocket from "ws";
import { LINK_PROTOCOL, LocalBus, REALTIME_PROTOCOL } from "@mevlab/kernel-helpers";
import { startControlPlane, type ControlPlane } from "../src";

type Role = "admin" | "viewer" | "agent";

/**
 * Who may call a route: anyone, or the roles whose token it accepts (a mutation also wants
 * X-Requested-With; `ownModule`: an agent only what belongs to its own module, which the route checks).
 */
type Rule = "public" | { may: readonly Role[]; mutation?: true; ownModule?: true };

const PUBLIC: Rule = "public";
const PEOPLE: Rule = { may: ["admin", "viewer"] };
const ADMIN_MUTATION: Rule = { may: ["admin"], mutation: true };
/** Admins only, no X-Requested-With: reads that name users and addresses (the audit log). */
const ADMIN_READ: Rule = { may: ["admin"] };
/** A person's own session or API tokens: any user, as a mutation. */
const OWN_MUTATION: Rule = { may: ["admin", "viewer"], mutation: true };
/** What agents fetch too (a promoted model), each only of its own module: model-store.test.ts checks the module. */
const PEOPLE_AND_OWN_AGENTS: Rule = { may: ["admin", "viewer", "agent"], ownModule: true };

/**
 * The table. Keys are Fastify's `METHOD url`; each GET's HEAD twin follows its GET's rule and is
 * checked too. A route missing here, or a row without a route, fails the first test.
 */
const ROUTES: Record<string, Rule> = {
  "OPTIONS *": PUBLIC, // @fastify/cors' preflight: browsers send it without credentials
  "POST /api/auth/login": PUBLIC,
  "POST /api/auth/refresh": PUBLIC, // the refresh token in the body is the credential
  "POST /api/auth/logout": OWN_MUTATION,
  "GET /api/auth/me": PEOPLE,
  "POST /api/auth/tokens": OWN_MUTATION,
  "GET /api/auth/tokens": PEOPLE,
  "DELETE /api/auth/tokens/:id": OWN_MUTATION,
  "POST /api/control/module/:spec": ADMIN_MUTATION,
  "POST /api/control/kill-all": ADMIN_MUTATION,
  "POST /api/agents/bundle/retry": ADMIN_MUTATION,
  "GET /api/control/requests/:id": PEOPLE,
  "POST /api/policy/update": ADMIN_MUTATION,
  "GET /api/policy/:module": PEOPLE,
  "POST /api/policy/:module/rollback": ADMIN_MUTATION,
  "POST /api/policy/promote": ADMIN_MUTATION,
  "POST /api/shadow/:module/promote": ADMIN_MUTATION,
  "POST /api/shadow/:module/drop": ADMIN_MUTATION,
  "GET /api/shadow/:module": PEOPLE,
  "GET /api/lineage": PEOPLE,
  "GET /api/lineage/:version": PEOPLE,
  "GET /api/agents": PEOPLE,
  "GET /api/metrics/summary": PEOPLE,
  "GET /api/metrics/history": PEOPLE,
  "GET /metrics": PEOPLE,
  "POST /api/datasets/scrape": ADMIN_MUTATION,
  "GET /api/datasets/jobs": PEOPLE,
  "GET /api/datasets/jobs/:id": PEOPLE,
  "POST /api/datasets/jobs/:id/cancel": ADMIN_MUTATION,
  "POST /api/training/start": ADMIN_MUTATION,
  "GET /api/training/status/:job_id": PEOPLE,
  "GET /api/training/jobs": PEOPLE,
  "POST /api/training/:job_id/cancel": ADMIN_MUTATION,
  "GET /api/training/models/:id": PEOPLE,
  "POST /api/models": ADMIN_MUTATION,
  "GET /api/models": PEOPLE,
  "GET /api/models/:id": PEOPLE,
  "GET /api/models/:id/model.onnx": PEOPLE_AND_OWN_AGENTS,
  "GET /api/clickhouse/queries": PEOPLE,
  // Curated, read-only queries: a viewer may run them, so no X-Requested-With either.
  "POST /api/clickhouse/query": PEOPLE,
  "GET /api/openapi.json": PEOPLE,
  "GET /api/audit": ADMIN_READ,
  "GET /api/audit/verify": ADMIN_READ,
  "GET /api/audit/export.csv": ADMIN_READ,
};

/** The upgrades outside the router (the document's x-websockets): who may open each. */
const SOCKETS: Record<string, { protocol: string; may: readonly Role[] }> = {
  "/api/realtime/ws": { protocol: REALTIME_PROTOCOL, may: ["admin", "viewer"] },
  "/api/bus/ws": { protocol: LINK_PROTOCOL, may: ["agent"] },
};

/** Values for path parameters: real names where the route checks them, unknown ids elsewhere (404 is fine). */
const PARAMS: Record<string, string> = { spec: "mev:stop", module: "mev", id: "no-such-id" };

/**
 * A kind of caller: `role` is the role of a token the control plane must accept; a caller without
 * one (anonymous, or a credential it must refuse) gets 401 everywhere but on public routes.
 */
interface Caller {
  name: string;
  role?: Role;
  /** The token it presents, asked anew for each call (none when undefined). */
  token?: () => Promise<string>;
  /** Sent instead of `Bearer <token>` (a malformed header). */
  authorization?: string;
  /** An agent token without a module claim: no route of an agent's own module may take it. */
  noModule?: true;
}

let bus: LocalBus;
let cp: ControlPlane;
const callers: Caller[] = [];

/** The same token with one character of its signature changed. */
function tampered(token: string): string {
  const dot = token.lastIndexOf(".");
  const i = dot + 5;
  return token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
}

before(async () => {
  bus = new LocalBus();
  cp = await startControlPlane({
    dataDir: mkdtempSync(join(tmpdir(), "mevlab-matrix-")),
    bus,
    port: 0,
    sink: false,
    logLevel: "silent",
    log: () => undefined,
  });
  // The accepted roles get a new token for every call: logging out revokes only that one.
  const fresh = (sub: string, role: Role) => () =>
    cp.tokens.issue(sub, role, 600, role === "agent" ? { module: "mev" } : {});
  const fixed = (token: string) => () => Promise.resolve(token);
  callers.push(
    { name: "anonymous" },
    { name: "viewer", role: "viewer", token: fresh("viewer", "viewer") },
    { name: "admin", role: "admin", token: fresh("admin", "admin") },
    { name: "agent", role: "agent", token: fresh("mev-1", "agent") },
    {
      name: "agent without a module",
      role: "agent",
      noModule: true,
      token: () => cp.tokens.issue("x-1", "agent", 600),
    },
    { name: "expired", token: fixed(await cp.tokens.issue("admin", "admin", -60)) },
    { name: "tampered", token: fixed(tampered(await cp.tokens.issue("admin", "admin", 600))) },
    {
      name: "malformed header",
      authorization: `Basic ${Buffer.from("admin:x").toString("base64")}`,
      token: fixed("x"),
    },
    { name: "revoked", token: fixed(await revokedToken()) },
    { name: "disabled user", token: fixed(await disabledUserToken()) },
  );
});

/** An admin's token after its holder logged out with it. */
async function revokedToken(): Promise<string> {
  const token = await cp.tokens.issue("admin", "admin", 600);
  const headers = { authorization: `Bearer ${token}`, "x-requested-with": "mevlab" };
  const res = await fetch(`${cp.url}/api/auth/logout`, { method: "POST", headers });
  assert.equal(res.status, 200, await res.text());
  return token;
}

/** A viewer's token, its user disabled since (the last admin cannot be). */
async function disabledUserToken(): Promise<string> {
  await cp.users.add("disabled-viewer", "disabled-password-1", "viewer");
  const token = await cp.tokens.issue("disabled-viewer", "viewer", 600);
  cp.users.setDisabled("disabled-viewer", true);
  return token;
}

after(async () => {
  await cp.close();
  await bus.close();
});

/** A request's status and, for refusals, the error code. */
async function call(
  method: string,
  path: string,
  caller: Caller,
  csrf: boolean,
): Promise<{ status: number; code?: string }> {
  const headers: Record<string, string> = {};
  if (caller.authorization) headers.authorization = caller.authorization;
  else if (caller.token) headers.authorization = `Bearer ${await caller.token()}`;
  if (csrf) headers["x-requested-with"] = "mevlab";
  let body: string | undefined;
  if (method === "POST") {
    headers["content-type"] = "application/json";
    body = "{}";
  }
  if (method === "OPTIONS") {
    headers.origin = "http://localhost:8888";
    headers["access-control-request-method"] = "POST";
  }
  const res = await fetch(`${cp.url}${path}`, { method, headers, body });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined; // not JSON (HEAD, /metrics, a preflight): the status alone says it
  }
  return { status: res.status, code };
}

type Expect = { status: 401 | 403; code: string } | "allowed";

function expected(rule: Rule, caller: Caller, csrf: boolean): Expect {
  if (rule === "public") return "allowed";
  if (!caller.role) return { status: 401, code: "unauthenticated" };
  if (!rule.may.includes(caller.role) || (caller.noModule && rule.ownModule)) return { status: 403, code: "forbidden" };
  if (rule.mutation && !csrf) return { status: 403, code: "csrf" };
  return "allowed";
}

/** Empty or wrong bodies and unknown ids are fine (400, 404): anything but a refusal or a server error. */
function mismatch(want: Expect, got: { status: number; code?: string }): boolean {
  if (want === "allowed") return got.status === 401 || got.status === 403 || got.status >= 500;
  return got.status !== want.status || (got.code !== undefined && got.code !== want.code);
}

const describe = (want: Expect) => (want === "allowed" ? "allowed (not 401/403/5xx)" : `${want.status} ${want.code}`);

/** Fastify's HEAD twins of GET routes follow their GET. */
function tableRoutes(): Array<[string, Rule]> {
  return Object.entries(ROUTES).flatMap(([key, rule]): Array<[string, Rule]> => {
    const [method, url] = key.split(" ");
    return method === "GET"
      ? [
          [key, rule],
          [`HEAD ${url}`, rule],
        ]
      : [[key, rule]];
  });
}

test("the table lists every route of Fastify's table and no other", () => {
  const actual = new Set(cp.routes.map((r) => `${r.method} ${r.url}`));
  const listed = new Set(tableRoutes().map(([key]) => key));
  const unlisted = [...actual].filter((k) => !listed.has(k));
  const stale = [...listed].filter((k) => !actual.has(k));
  assert.deepEqual(unlisted, [], "routes without a row in ROUTES: decide who may call them");
  assert.deepEqual(stale, [], "rows in ROUTES without a route");
});

test("the table agrees with each route's declared access (the OpenAPI document's x-roles, x-mutation)", async () => {
  const admin = await cp.tokens.issue("admin", "admin", 600);
  const res = await fetch(`${cp.url}/api/openapi.json`, { headers: { authorization: `Bearer ${admin}` } });
  const doc = (await res.json()) as {
    paths: Record<
      string,
      Record<string, { security?: unknown[]; "x-roles"?: Role[]; "x-mutation"?: string; "x-agents"?: string }>
    >;
    "x-websockets": Array<{ path: string; roles: Role[] }>;
  };
  for (const [key, rule] of Object.entries(ROUTES)) {
    const [method, url] = key.split(" ");
    if (method === "OPTIONS") continue;
    const op = doc.paths[url.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
    assert.ok(op, `${key} is not in the document`);
    const declared: Rule =
      op["x-roles"] === undefined
        ? "public"
        : {
            may: op["x-roles"],
            ...(op["x-mutation"] ? { mutation: true as const } : {}),
            ...(op["x-agents"] === "own-module" ? { ownModule: true as const } : {}),
          };
    assert.deepEqual(declared, rule, `${key}: declared access differs from the table`);
  }
  const sockets = Object.fromEntries(doc["x-websockets"].map((s) => [s.path, s.roles]));
  const table = Object.fromEntries(Object.entries(SOCKETS).map(([path, s]) => [path, s.may]));
  assert.deepEqual(sockets, table, "WebSocket endpoints: the table and x-websockets differ");
});

for (const [key, rule] of tableRoutes()) {
  test(`${key}: every caller`, async () => {
    const [method, url] = key.split(" ");
    const path = url === "*" ? "/api/agents" : url.replace(/:(\w+)/g, (_, p: string) => PARAMS[p]);
    const wrong: string[] = [];
    for (const caller of callers) {
      // A mutation is tried without X-Requested-With too: an allowed role must then get 403 csrf.
      for (const csrf of rule !== "public" && rule.mutation ? [true, false] : [true]) {
        const want = expected(rule, caller, csrf);
        const got = await call(method, path, caller, csrf);
        if (mismatch(want, got)) {
          const header = csrf ? "" : " without X-Requested-With";
          wrong.push(`${caller.name}${header}: want ${describe(want)}, got ${got.status} ${got.code ?? ""}`);
        }
      }
    }
    assert.deepEqual(wrong, [], `${method} ${path}`);
  });
}

/** An upgrade's answer: 101 when it opened (then closed at once), else the refusal's status. */
async function upgrade(path: string, protocol: string, caller: Caller): Promise<number> {
  const protocols = caller.token ? [protocol, `bearer.${await caller.token()}`] : [protocol];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${cp.port}${path}`, protocols);
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once("error", reject);
  });
}

for (const [path, socket] of Object.entries(SOCKETS)) {
  test(`WebSocket ${path}: every caller`, async () => {
    const wrong: string[] = [];
    for (const caller of callers) {
      const want = !caller.role ? 401 : socket.may.includes(caller.role) ? 101 : 403;
      const got = await upgrade(path, socket.protocol, caller);
      if (got !== want) wrong.push(`${caller.name}: want ${want}, got ${got}`);
    }
    assert.deepEqual(wrong, [], path);
  });
}
