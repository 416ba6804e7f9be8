import type { FastifyPluginAsyncTypebox, Static } from "@fastify/type-provider-typebox";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DataError,
  JobCancelled,
  JobList,
  JobView,
  ModelCard,
  TrainingAccepted,
  planSlice,
} from "@mevlab/kernel-helpers";
import type { ModelType } from "@mevlab/kernel-helpers/train";
import { READ, issuer, mutation } from "../auth/access";
import type { AuditLog } from "../audit/log";
import { jobJson } from "../datasets/routes";
import type { JobRunner } from "../datasets/jobs";
import { JobsQuery, NoFields } from "../datasets/schemas";
import { HttpError } from "../http/errors";
import type { Api } from "../http/typebox";
import { modelsDir, type TrainingSpec } from "./run";
import { ModelParams, TrainingJobParams, TrainingStartBody } from "./schemas";

export interface TrainingDeps {
  audit: AuditLog;
  jobs: JobRunner;
  dataDir: string;
}

const tags = ["training"];

/** The body as a training spec; the range is checked as a slice would check it (400 naming the bound). */
export function parseTraining(body: Static<typeof TrainingStartBody>): TrainingSpec {
  try {
    planSlice({ stream: body.module === "mev" ? "mev" : "arb", from: body.range.from, to: body.range.to });
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    throw new HttpError(400, "bad_request", `range.${err.field ?? "from"}: ${err.message}`);
  }
  return {
    module: body.module === "arb" ? "arbitrage" : body.module,
    from: body.range.from,
    to: body.range.to,
    features: body.features,
    models: [body.model ?? "xgb"].flat() as ModelType[],
    gpu: body.gpu ?? false,
    params: { ...body.params },
    target: body.target,
  };
}

function trainingJob(deps: TrainingDeps, id: string) {
  const job = deps.jobs.get(id);
  if (!job || job.kind !== "training") throw new HttpError(404, "not_found", `no training job ${id}`);
  return job;
}

/** A published model's card.json; the id is checked as 64 hex characters by the params schema. */
async function readCard(dataDir: string, id: string): Promise<ModelCard> {
  try {
    return JSON.parse(await readFile(join(modelsDir(dataDir), id, "card.json"), "utf8")) as ModelCard;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new HttpError(404, "not_found", `no model ${id}`);
    throw err;
  }
}

/** Training runs as jobs of the control plane's job runner: start, status, list, cancel, model cards. */
export const trainingRoutes: FastifyPluginAsyncTypebox<TrainingDeps> = async (app: Api, deps) => {
  mutationRoutes(app, deps);
  readRoutes(app, deps);
};

/** Start and cancel: admin only, audited. */
function mutationRoutes(app: Api, deps: TrainingDeps): void {
  app.post(
    "/api/training/start",
    {
      config: { access: mutation("training.start") },
      schema: {
        summary: "Train models on a slice of the store as a job (the blueprint's training body)",
        tags,
        body: TrainingStartBody,
        response: { 202: TrainingAccepted },
      },
    },
    async (req, reply) => {
      const who = issuer(req);
      const spec = parseTraining(req.body);
      const output = modelsDir(deps.dataDir);
      const job = deps.jobs.submit(spec, output, who.user, spec, "training");
      deps.audit.write({
        user: who.user,
        role: who.role,
        action: "training.start",
        target: spec.models.join(","),
        outcome: "accepted",
        reason: job.id,
        ip: who.ip,
      });
      return reply.code(202).send({ ok: true as const, job_id: job.id, output, job: jobJson(job) });
    },
  );

  app.post(
    "/api/training/:job_id/cancel",
    {
      config: { access: mutation("training.cancel") },
      schema: {
        summary: "Cancel a queued or running training job; 409 once finished",
        tags,
        params: TrainingJobParams,
        body: NoFields,
        response: { 202: JobCancelled },
      },
    },
    async (req, reply) => {
      const job = trainingJob(deps, req.params.job_id);
      if (!deps.jobs.cancel(job.id)) {
        throw new HttpError(409, "conflict", `job ${job.id} has already finished (${job.state})`);
      }
      const who = issuer(req);
      deps.audit.write({
        user: who.user,
        role: who.role,
        action: "training.cancel",
        target: job.id,
        outcome: "accepted",
        ip: who.ip,
      });
      return reply.code(202).send({ ok: true as const, job: jobJson(job) });
    },
  );
}

/** Status, the job list and the model cards: admin and viewer. */
function readRoutes(app: Api, deps: TrainingDeps): void {
  app.get(
    "/api/training/status/:job_id",
    {
      config: { access: READ },
      schema: {
        summary: "A training job: state, progress, metrics, log tail, model ids",
        tags,
        params: TrainingJobParams,
        response: { 200: JobView },
      },
    },
    async (req) => jobJson(trainingJob(deps, req.params.job_id)),
  );

  app.get(
    "/api/training/jobs",
    {
      config: { access: READ },
      schema: { summary: "Training jobs, newest first", tags, querystring: JobsQuery, response: { 200: JobList } },
    },
    async (req) => ({ jobs: deps.jobs.list(req.query.limit ?? 100, "training").map(jobJson) }),
  );

  app.get(
    "/api/training/models/:id",
    {
      config: { access: READ },
      schema: {
        summary: "A published model's card (card.json): params, metrics per split, dataset, features, device",
        tags,
        params: ModelParams,
        response: { 200: ModelCard },
      },
    },
    async (req) => readCard(deps.dataDir, req.params.id),
  );
}
