import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { SchemaError } from "./validation";

/** An error the API answers with its status and message, as `{ok: false, error: {code, message}}`. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, "bad_request", message);

export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ ok: false, error: { code, message } });
}

/**
 * The one mapping from errors to statuses. A request part that fails its schema is a 400, but a path
 * parameter that names nothing is a 404; Fastify's own errors (bad JSON, body too large, wrong
 * content type) keep their 4xx and get our shape.
 */
export function errorHandler(err: FastifyError | HttpError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HttpError) return sendError(reply, err.status, err.code, err.message);
  if (err instanceof SchemaError) {
    return sendError(reply, (err as FastifyError).validationContext === "params" ? 404 : 400, err.code, err.message);
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = (err.code ?? "bad_request").toLowerCase().replace(/^fst_err_/, "");
    return sendError(reply, status, code, friendly(err));
  }
  req.log.error({ err }, "unhandled error");
  return sendError(reply, 500, "internal", `internal error; the control plane log has the details (request ${req.id})`);
}

function friendly(err: FastifyError): string {
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported content type: send the body as application/json";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "request body too large (limit 64 KiB)";
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "empty body with content-type application/json: send {} or no content type";
    default:
      return err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError
        ? `malformed JSON body: ${err.message}`
        : err.message;
  }
}
