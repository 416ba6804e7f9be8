import type { FastifyPluginAsyncTypebox, Static } from "@fastify/type-provider-typebox";
import { JobSchema, toWireJson, type Job } from "@mevlab/proto";
import {
  DataError,
  JobCancelled,
  JobList,
  ScrapeAccepted,
  validateExport,
  type ExportSpec,
  JobView,
} from "@mevlab/kernel-helpers";
import { READ, issuer, mutation } from "../auth/access";
import type { AuditLog } from "../audit/log";
import { HttpError, badRequest } from "../http/errors";
import type { Api } from "../http/typebox";
import type { JobRunner } from "./jobs";
import { JobParams, JobsQuery, NoFields, ScrapeBody } from "./schemas";

export interface DatasetDeps {
  audit: AuditLog;
  jobs: JobRunner;
  allowedRoots: readonly string[];
}

/** The blueprint's names, and the helper library's, of each export spec field. */
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
const API_NAME: Record<string, string> = { from: "start", to: "end", compression: "compress" };

/** Turns a scrape body into an export spec: one name per field, the required ones present. */
export function parseScrape(
  body: Static<typeof ScrapeBody>,
  defaultOutput: string,
): { spec: ExportSpec; params: Record<string, unknown> } {
  const spec: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const name = FIELDS[k];
    if (name in spec) throw badRequest(`field '${k}' given twice (as '${k}' and under another name)`);
    if (v === null || v === undefined) continue;
    spec[name] = v;
  }
  for (const required of ["from", "to", "types"]) {
    if (!(required in spec)) throw badRequest(`missing field '${API_NAME[required] ?? required}'`);
  }
  if (Array.isArray(spec.dex) && spec.dex.length === 0) delete spec.dex; // blueprint: empty = all
  spec.output ??= defaultOutput;
  return { spec: spec as unknown as ExportSpec, params: spec };
}

/** A job as the API shows it: the Job message's JSON mapping, with its params and manifest parsed. */
export function jobJson(job: Job): JobView {
  const { manifest_json, params_json, metrics_json, ...rest } = toWireJson(JobSchema, job) as Omit<
    JobView,
    "params" | "manifest" | "metrics"
  > & {
    params_json?: string;
    manifest_json?: string;
    metrics_json?: string;
  };
  return {
    ...rest,
    params: params_json ? (JSON.parse(params_json) as JobView["params"]) : null,
    manifest: manifest_json ? (JSON.parse(manifest_json) as JobView["manifest"]) : null,
    metrics: metrics_json ? (JSON.parse(metrics_json) as JobView["metrics"]) : null,
  };
}

/** validateExport's checks, each 400 naming the field under its API name. */
function checkedOutput(spec: ExportSpec, roots: readonly string[]): string {
  try {
    return validateExport(spec, roots);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    const field = err.field && (API_NAME[err.field] ?? err.field);
    throw new HttpError(400, "bad_request", field ? `${field}: ${err.message}` : err.message);
  }
}

const tags = ["datasets"];

/** `POST /api/datasets/scrape`: an export job, once every field and the output are checked. */
function scrape(app: Api, deps: DatasetDeps): void {
  app.post(
    "/api/datasets/scrape",
    {
      config: { access: mutation("datasets.scrape") },
      schema: {
        summary: "Export a dataset as a job (the blueprint's scrape)",
        tags,
        body: ScrapeBody,
        response: {
          202: ScrapeAccepted,
        },
      },
    },
    async (req, reply) => {
      const who = issuer(req);
      const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
      const { spec, params } = parseScrape(req.body, `dataset-${stamp}-${Math.random().toString(36).slice(2, 8)}`);
      const output = checkedOutput(spec, deps.allowedRoots);
      if (deps.jobs.busyOutputs().has(output)) {
        throw new HttpError(409, "conflict", `another job is already writing ${output}`);
      }
      const job = deps.jobs.submit(spec, output, who.user, params);
      deps.audit.write({
        user: who.user,
        role: who.role,
        action: "datasets.scrape",
        target: output,
        outcome: "accepted",
        reason: job.id,
        ip: who.ip,
      });
      return reply.code(202).send({ ok: true as const, job_id: job.id, output, job: jobJson(job) });
    },
  );
}

/** Dataset exports as jobs of the control plane: submit, list, read, cancel. */
export const datasetRoutes: FastifyPluginAsyncTypebox<DatasetDeps> = async (app, deps) => {
  scrape(app, deps);

  app.get(
    "/api/datasets/jobs",
    {
      config: { access: READ },
      schema: {
        summary: "Jobs, newest first",
        tags,
        querystring: JobsQuery,
        response: { 200: JobList },
      },
    },
    async (req) => ({ jobs: deps.jobs.list(req.query.limit ?? 100).map(jobJson) }),
  );

  app.get(
    "/api/datasets/jobs/:id",
    { config: { access: READ }, schema: { summary: "One job", tags, params: JobParams, response: { 200: JobView } } },
    async (req) => {
      const job = deps.jobs.get(req.params.id);
      if (!job) throw new HttpError(404, "not_found", `no job ${req.params.id}`);
      return jobJson(job);
    },
  );

  app.post(
    "/api/datasets/jobs/:id/cancel",
    {
      config: { access: mutation("datasets.cancel") },
      schema: {
        summary: "Cancel a queued or running job; 409 once finished",
        tags,
        params: JobParams,
        body: NoFields,
        response: { 202: JobCancelled },
      },
    },
    async (req, reply) => {
      const job = deps.jobs.get(req.params.id);
      if (!job) throw new HttpError(404, "not_found", `no job ${req.params.id}`);
      if (!deps.jobs.cancel(job.id)) {
        throw new HttpError(409, "conflict", `job ${job.id} has already finished (${job.state})`);
      }
      const who = issuer(req);
      deps.audit.write({
        user: who.user,
        role: who.role,
        action: "datasets.cancel",
        target: job.id,
        outcome: "accepted",
        ip: who.ip,
      });
      return reply.code(202).send({ ok: true as const, job: jobJson(job) });
    },
  );
};
