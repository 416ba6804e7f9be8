import { randomUUID } from "node:crypto";
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";

/** Query parameters whose values are secrets: `?token=` opens a WebSocket where headers cannot be set. */
const SECRET_PARAMS = /([?&](?:token|access_token|refresh_token|password)=)[^&#]*/gi;

/** A URL as logged: the values of secret query parameters replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, "$1[redacted]");
}

/**
 * Secrets wherever a log line might carry them: headers (should a request be logged whole), and
 * passwords and tokens in objects (bodies are never logged; this is the net under that rule).
 */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["sec-websocket-protocol"]',
  "password",
  "*.password",
  "token",
  "*.token",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
];

const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * One line per request, once it is answered (Fastify's default writes two, and a third for a 404),
 * with the request id, the user and the time taken.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {
    // Logged once answered (requestCompleted): the answer's line has everything this one would.
  }

  override routeNotFound(): void {
    // The 404 is in the request's line.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: redactUrl(request.url),
      status: reply.statusCode,
      ms: round(reply.elapsedTime),
      user: request.principal?.sub,
    };
    if (error) reply.log.error({ ...line, err: error }, "request failed");
    else reply.log.info(line, "request");
  }
}

/**
 * Fastify's options for the structured log (pino, JSON lines): on `stream` (stderr by default, where
 * `mevlab up` shows a child's last lines), at `level`, a random id per request in every line of it.
 */
export function loggingOptions(
  level: string,
  stream: { write(line: string): void } = process.stderr,
): Pick<FastifyServerOptions, "logger" | "logController" | "genReqId"> {
  return {
    logger: {
      level,
      stream,
      base: { pid: process.pid },
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      redact: { paths: REDACT, censor: "[redacted]" },
      serializers: {
        req: (req) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
      },
    },
    logController: new RequestLog(),
    genReqId: () => randomUUID(),
  };
}
