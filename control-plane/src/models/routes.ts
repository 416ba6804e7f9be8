import type { FastifyPluginAsyncTypebox, Static } from "@fastify/type-provider-typebox";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ModelCard, ModelList, ModelUploaded } from "@mevlab/kernel-helpers";
import { MODULE_READ, READ, agentModule, issuer, mutation } from "../auth/access";
import type { AuditLog } from "../audit/log";
import { HttpError, errorHandler, sendError } from "../http/errors";
import type { Api } from "../http/typebox";
import { ModelBytes, ModelIdParams, ModelUploadBody, ModelsQuery } from "./schemas";
import { MODEL_ID, type ModelStore } from "./store";
import { base64Length, checkModel, decodeModel, sha256Hex, storedCard, tooLarge } from "./validate";

export interface ModelDeps {
  audit: AuditLog;
  store: ModelStore;
  /** The largest model an upload may carry (MEVLAB_MODEL_MAX_BYTES). */
  maxBytes: number;
}

const tags = ["models"];
/** Room in an upload's body for its card and the JSON around the base64 text. */
const CARD_ALLOWANCE = 1024 * 1024;

function modelId(id: string): string {
  if (!MODEL_ID.test(id)) {
    throw new HttpError(400, "bad_request", `id must be a model's sha256: 64 lowercase hex characters, got '${id}'`);
  }
  return id;
}

const unknownModel = (id: string) => new HttpError(404, "unknown_model", `no model ${id} in the store`);

/** A refusal after authentication, in the audit log like the access hook's. */
function auditRefusal(audit: AuditLog, req: FastifyRequest, action: string, reason: string): void {
  const who = issuer(req);
  audit.write({ user: who.user, role: who.role, action, target: req.url, outcome: "denied", reason, ip: who.ip });
}

/**
 * The model store: upload (admin), list and cards (people), and a model's bytes (people, and agents
 * for their own module's models). docs/models.md.
 */
export const modelRoutes: FastifyPluginAsyncTypebox<ModelDeps> = async (app: Api, deps) => {
  uploadRoute(app, deps);
  readRoutes(app, deps);
};

/** What an upload stores: 201 and its card, or 200 and the card stored before for the same bytes. */
async function upload(deps: ModelDeps, body: Static<typeof ModelUploadBody>): Promise<Static<typeof ModelUploaded>> {
  const bytes = decodeModel(body.onnx_base64, deps.maxBytes);
  const id = sha256Hex(bytes);
  if (body.card?.id !== undefined && body.card.id !== id) {
    throw new HttpError(422, "card_mismatch", `card.id is ${body.card.id}, the sha256 of the bytes is ${id}`);
  }
  const existing = await deps.store.card(id);
  if (existing) {
    if (existing.module !== body.module) {
      throw new HttpError(409, "conflict", `model ${id} is stored for module ${existing.module}, not ${body.module}`);
    }
    // Nothing new here; with S3, a model only in the data dir (a training job's) goes to the bucket.
    await deps.store.put(id, bytes, existing);
    return { ok: true, id, created: false, card: existing };
  }
  const checked = await checkModel(bytes, body.module);
  const card = storedCard(body.card, { id, module: body.module, bytes: bytes.length, ...checked });
  const created = await deps.store.put(id, bytes, card);
  return { ok: true, id, created, card: created ? card : ((await deps.store.card(id)) ?? card) };
}

function uploadRoute(app: Api, deps: ModelDeps): void {
  const tooLargeBody = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    if (err.code !== "FST_ERR_CTP_BODY_TOO_LARGE") return errorHandler(err, req, reply);
    const refusal = tooLarge(undefined, deps.maxBytes);
    if (req.principal) auditRefusal(deps.audit, req, "model.upload", refusal.message);
    return sendError(reply, refusal.status, refusal.code, refusal.message);
  };
  app.post(
    "/api/models",
    {
      // The token is checked before a body of up to ~90 MB is read.
      config: { access: mutation("model.upload", { beforeBody: true }) },
      bodyLimit: base64Length(deps.maxBytes) + CARD_ALLOWANCE,
      errorHandler: tooLargeBody,
      schema: {
        summary: "Store a model (ONNX in base64) after loading it and checking it against the module's agents",
        tags,
        body: ModelUploadBody,
        response: { 200: ModelUploaded, 201: ModelUploaded },
      },
    },
    async (req, reply) => {
      let res: Static<typeof ModelUploaded>;
      try {
        res = await upload(deps, req.body);
      } catch (err) {
        if (err instanceof HttpError && err.status < 500) auditRefusal(deps.audit, req, "model.upload", err.message);
        throw err;
      }
      const who = issuer(req);
      deps.audit.write({
        user: who.user,
        role: who.role,
        action: "model.upload",
        target: `${req.body.module}:${res.id}`,
        outcome: "accepted",
        reason: res.created ? "stored" : "already stored",
        ip: who.ip,
      });
      return reply.code(res.created ? 201 : 200).send(res);
    },
  );
}

/** The list and the cards (admin, viewer); the bytes (also agents, of their own module's models). */
function readRoutes(app: Api, deps: ModelDeps): void {
  app.get(
    "/api/models",
    {
      config: { access: READ },
      schema: {
        summary: "The stored models, newest first",
        tags,
        querystring: ModelsQuery,
        response: { 200: ModelList },
      },
    },
    async (req) => {
      const models = await deps.store.list();
      return { models: req.query.module ? models.filter((m) => m.module === req.query.module) : models };
    },
  );

  app.get(
    "/api/models/:id",
    {
      config: { access: READ },
      schema: { summary: "A stored model's card", tags, params: ModelIdParams, response: { 200: ModelCard } },
    },
    async (req) => {
      const id = modelId(req.params.id);
      return (await deps.store.card(id)) ?? Promise.reject(unknownModel(id));
    },
  );

  app.get(
    "/api/models/:id/model.onnx",
    {
      config: { access: MODULE_READ },
      schema: {
        summary: "A stored model's bytes as stored (agents: their own module's models); check them against the id",
        tags,
        params: ModelIdParams,
        response: { 200: ModelBytes },
      },
    },
    async (req, reply) => {
      const id = modelId(req.params.id);
      const card = await deps.store.card(id);
      if (!card) throw unknownModel(id);
      const own = agentModule(req);
      if (own !== undefined && card.module !== own) {
        const reason = `model ${id} is for module ${card.module ?? "(none)"}; agent ${req.principal?.sub} runs ${own}`;
        auditRefusal(deps.audit, req, `read ${req.routeOptions.url}`, reason);
        throw new HttpError(403, "forbidden", reason);
      }
      const file = await deps.store.open(id);
      if (!file) throw unknownModel(id);
      return reply
        .type("application/octet-stream")
        .header("content-length", file.bytes)
        .header("x-mevlab-sha256", id)
        .send(file.stream);
    },
  );
}
