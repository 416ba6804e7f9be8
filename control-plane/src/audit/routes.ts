import { createReadStream, existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { Type, type FastifyPluginAsyncTypebox, type Static } from "@fastify/type-provider-typebox";
import { loadOrCreateSecret } from "../auth/tokens";
import type { ControlPlaneConfig } from "../config";
import { anchorTarget } from "./anchor";
import { auditPaths, verifyAudit } from "./verify";

/** Who may read the audit log: admins (it names every user, address and refusal). */
const ADMIN_READ = { roles: ["admin"] as const };
const MAX_LIMIT = 10_000;
const COLUMNS = ["ts", "user", "role", "action", "target", "outcome", "reason", "request_id", "ip"] as const;

const Time = (description: string) =>
  Type.String({
    pattern:
      "^([0-9]{1,15}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)$",
    description,
    "x-error": "{path} must be an ISO 8601 time or ms since the epoch, got {got}",
  });
const timeOf = (v: string) => (/^[0-9]+$/.test(v) ? Number(v) : Date.parse(v));

const AuditQuery = Type.Object(
  {
    user: Type.Optional(Type.String({ maxLength: 200 })),
    module: Type.Optional(Type.String({ maxLength: 50, description: "a token of the target, e.g. mev" })),
    action: Type.Optional(Type.String({ maxLength: 200, description: "exact, or a prefix ending in '.'" })),
    outcome: Type.Optional(Type.Union([Type.Literal("accepted"), Type.Literal("denied"), Type.Literal("alert")])),
    from: Type.Optional(Time("ISO 8601 or ms since the epoch, inclusive")),
    to: Type.Optional(Time("ISO 8601 or ms since the epoch, exclusive")),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 500 })),
  },
  { additionalProperties: false },
);
type AuditQuery = Static<typeof AuditQuery>;

const AuditRecord = Type.Object({
  ts: Type.Optional(Type.String()),
  user: Type.Optional(Type.String()),
  role: Type.Optional(Type.String()),
  action: Type.Optional(Type.String()),
  target: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  request_id: Type.Optional(Type.String()),
  ip: Type.Optional(Type.String()),
});

const AuditList = Type.Object(
  {
    records: Type.Array(AuditRecord, { description: "newest first" }),
    matched: Type.Integer({ description: "records that matched, of which the newest `limit` are here" }),
    scanned: Type.Integer(),
  },
  { additionalProperties: false },
);

/** The CSV answer, as the OpenAPI document describes it (Fastify sends the text as it is). */
const AuditCsv = {
  description: "a header line (ts,user,role,action,target,outcome,reason,request_id,ip), then newest first",
  content: { "text/csv": { schema: { type: "string" } } },
};

const AuditVerification = Type.Object(
  {
    ok: Type.Boolean(),
    records: Type.Integer(),
    problems: Type.Array(Type.String(), { description: "each names its line; the first bad record first" }),
    notes: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

type Row = Partial<Record<(typeof COLUMNS)[number], string>>;

function matcher(q: AuditQuery): (r: Row) => boolean {
  const from = q.from ? timeOf(q.from) : -Infinity;
  const to = q.to ? timeOf(q.to) : Infinity;
  return (r) => {
    if (q.user && r.user !== q.user) return false;
    if (q.outcome && r.outcome !== q.outcome) return false;
    if (q.action && r.action !== q.action && !(q.action.endsWith(".") && r.action?.startsWith(q.action))) return false;
    if (q.module && !(r.target ?? "").split(/[:,/\s]+/).includes(q.module)) return false;
    const t = Date.parse(r.ts ?? "");
    return !(t < from || t >= to);
  };
}

/** The newest `limit` records that match, reading the log line by line (it is never held whole). */
async function readMatching(
  file: string,
  q: AuditQuery,
): Promise<{ records: Row[]; matched: number; scanned: number }> {
  const limit = q.limit ?? 500;
  const keep: Row[] = [];
  let matched = 0;
  let scanned = 0;
  if (!existsSync(file)) return { records: [], matched, scanned };
  const ok = matcher(q);
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    scanned += 1;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // verify names it; the list shows what can be read
    }
    const row: Row = {};
    for (const c of COLUMNS) if (value[c] !== undefined) row[c] = String(value[c]);
    if (!ok(row)) continue;
    matched += 1;
    keep.push(row);
    if (keep.length > limit) keep.shift();
  }
  return { records: keep.reverse(), matched, scanned };
}

const csvField = (v: string | undefined) =>
  v === undefined ? "" : /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;

/** The audit log for admins: filtered, newest first, as JSON or CSV; and its chain verified. */
export const auditRoutes: FastifyPluginAsyncTypebox<{ config: ControlPlaneConfig }> = async (app, { config }) => {
  const { file, keyFile } = auditPaths(config.dataDir);

  app.get(
    "/api/audit",
    {
      config: { access: ADMIN_READ },
      schema: {
        summary: "The audit log, newest first: filters by user, module, action, outcome and time",
        tags: ["audit"],
        querystring: AuditQuery,
        response: { 200: AuditList },
      },
    },
    async (req) => readMatching(file, req.query),
  );

  app.get(
    "/api/audit/export.csv",
    {
      config: { access: ADMIN_READ },
      schema: {
        summary: "The same records as GET /api/audit, as CSV (a header line, then newest first)",
        tags: ["audit"],
        querystring: AuditQuery,
        response: { 200: AuditCsv },
      },
    },
    async (req, reply) => {
      const result = await readMatching(file, req.query);
      const lines = [COLUMNS.join(","), ...result.records.map((r) => COLUMNS.map((c) => csvField(r[c])).join(","))];
      return reply
        .type("text/csv; charset=utf-8")
        .header("Content-Disposition", 'attachment; filename="mevlab-audit.csv"')
        .send(lines.join("\r\n") + "\r\n");
    },
  );

  app.get(
    "/api/audit/verify",
    {
      config: { access: ADMIN_READ },
      schema: {
        summary: "Checks the audit log's chain and HMACs (and its anchor when one is set); names the first bad record",
        tags: ["audit"],
        response: { 200: AuditVerification },
      },
    },
    async () => {
      const anchor = config.auditAnchor ? anchorTarget(config.auditAnchor, config.dataDir) : undefined;
      const report = await verifyAudit({ file, key: loadOrCreateSecret(keyFile), anchor });
      return {
        ok: report.problems.length === 0,
        records: report.records,
        problems: report.problems,
        notes: report.notes,
      };
    },
  );
};
