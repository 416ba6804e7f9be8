import type { FastifyInstance } from "fastify";
import { JobSchema, toWireJson, type Job } from "@mevlab/proto";
import { DataError, validateExport, type ExportSpec } from "@mevlab/kernel-helpers";
import { authenticate, authorizeMutation } from "../auth/guard";
import type { TokenService } from "../auth/tokens";
import type { AuditLog } from "../audit/log";
import { HttpError, badRequest } from "../http/errors";
import type { JobRunner } from "./jobs";

export interface DatasetDeps {
  tokens: TokenService;
  audit: AuditLog;
  jobs: JobRunner;
  allowedRoots: readonly string[];
}

/** The blueprint's body, plus `compression` / `modules` / `from` / `to` under the helper library's names. */
const FIELDS: Record<string, keyof ExportSpec> = {
  start: "from",
  from: "from",
  end: "to",
  to: "to",
  types: "types",
  dex: "dex",
  modules: "modules",
  format: "format",
  compress: "compression",
  compression: "compression",
  output: "output",
};

/** Turns a scrape body into an export spec; 400 naming the field for anything wrong. */
export function parseScrape(
  body: unknown,
  defaultOutput: string,
): { spec: ExportSpec; params: Record<string, unknown> } {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw badRequest("body must be a JSON object: {start, end, types, dex, format, compress, output}");
  }
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    const name = FIELDS[k];
    if (!name) throw badRequest(`unknown field '${k}' (known: start, end, types, dex, format, compress, output)`);
    if (name in spec) throw badRequest(`field '${k}' given twice (as '${k}' and under another name)`);
    if (v === null || v === undefined) continue;
    spec[name] = v;
  }
  for (const required of ["from", "to", "types"]) {
    if (!(required in spec)) {
      throw badRequest(`missing field '${required === "from" ? "start" : required === "to" ? "end" : required}'`);
    }
  }
  for (const f of ["from", "to"]) {
    if (typeof spec[f] !== "string" && typeof spec[f] !== "number") {
      throw badRequest(`'${f === "from" ? "start" : "end"}' must be an ISO date or unix milliseconds`);
    }
  }
  if (spec.dex !== undefined && Array.isArray(spec.dex) && spec.dex.length === 0) delete spec.dex; // blueprint: empty = all
  spec.output ??= defaultOutput;
  return { spec: spec as unknown as ExportSpec, params: spec };
}

export function jobJson(job: Job): Record<string, unknown> {
  const { manifest_json, params_json, ...rest } = toWireJson(JobSchema, job) as Record<string, unknown>;
  return {
    ...rest,
    params: params_json ? JSON.parse(params_json as string) : null,
    manifest: manifest_json ? JSON.parse(manifest_json as string) : null,
  };
}

export function datasetRoutes(app: FastifyInstance, deps: DatasetDeps): void {
  app.post("/api/datasets/scrape", async (req, reply) => {
    const who = await authorizeMutation(req, deps.tokens, deps.audit, "datasets.scrape");
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    const { spec, params } = parseScrape(req.body, `dataset-${stamp}-${Math.random().toString(36).slice(2, 8)}`);
    let output: string;
    try {
      output = validateExport(spec, deps.allowedRoots);
    } catch (err) {
      if (err instanceof DataError) {
        const field =
          err.field === "from"
            ? "start"
            : err.field === "to"
              ? "end"
              : err.field === "compression"
                ? "compress"
                : err.field;
        throw new HttpError(400, "bad_request", field ? `${field}: ${err.message}` : err.message);
      }
      throw err;
    }
    if (deps.jobs.busyOutputs().has(output)) {
      throw new HttpError(409, "conflict", `another job is already writing ${output}`);
    }
    const job = deps.jobs.submit(spec, output, who.sub, params);
    deps.audit.write({
      user: who.sub,
      role: who.role,
      action: "datasets.scrape",
      target: output,
      outcome: "accepted",
      reason: job.id,
      ip: req.ip,
    });
    return reply.code(202).send({ ok: true, job_id: job.id, output, job: jobJson(job) });
  });

  app.get<{ Querystring: { limit?: string } }>("/api/datasets/jobs", async (req) => {
    await authenticate(req, deps.tokens);
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badRequest("'limit' must be an integer 1–1000");
    return { jobs: deps.jobs.list(limit).map(jobJson) };
  });

  app.get<{ Params: { id: string } }>("/api/datasets/jobs/:id", async (req) => {
    await authenticate(req, deps.tokens);
    const job = deps.jobs.get(req.params.id);
    if (!job) throw new HttpError(404, "not_found", `no job ${req.params.id}`);
    return jobJson(job);
  });

  app.post<{ Params: { id: string } }>("/api/datasets/jobs/:id/cancel", async (req, reply) => {
    const who = await authorizeMutation(req, deps.tokens, deps.audit, "datasets.cancel");
    const job = deps.jobs.get(req.params.id);
    if (!job) throw new HttpError(404, "not_found", `no job ${req.params.id}`);
    if (!deps.jobs.cancel(job.id)) {
      throw new HttpError(409, "conflict", `job ${job.id} has already finished (${job.state})`);
    }
    deps.audit.write({
      user: who.sub,
      role: who.role,
      action: "datasets.cancel",
      target: job.id,
      outcome: "accepted",
      ip: req.ip,
    });
    return reply.code(202).send({ ok: true, job: jobJson(job) });
  });
}
