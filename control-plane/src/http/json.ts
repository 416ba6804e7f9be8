import type { FastifyInstance } from "fastify";
import { HttpError } from "./errors";

/** No request body of the API nests deeper than a few levels; this leaves room and stops abuse. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether JSON text nests arrays and objects deeper than `limit`, found by scanning, before any
 * parsing: code that walks a parsed value recursively would overflow its stack on 20,000 levels.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Fastify's JSON parser (prototype poisoning refused), behind a nesting limit that answers 400. */
export function useDepthLimitedJson(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) {
      done(new HttpError(400, "too_deep", `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parse(req, body as string, done);
  });
}
