import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import type { FastifySchemaCompiler, FastifySchemaValidationError } from "fastify";

type Part = "body" | "headers" | "params" | "querystring";

/**
 * Extension keywords of the route schemas (shown in the OpenAPI document too) that word the 4xx a
 * client gets, so a message names the field the way the API always has:
 * - `x-error`: a template for any failure of this value;
 * - `x-errors`: templates per failing keyword (`minItems`, `not`, …), before `x-error`;
 * - `x-unknown`: the template for a field this object does not have (default below);
 * - `x-code`: the error code (default `bad_request`, `not_found` for path parameters).
 * A missing required field is worded by that field's own `x-error`, with the value undefined.
 * Placeholders: {path} the field (`tip_ladder[1]`), {got} the value as JSON, {value} the value with
 * strings in single quotes, {count} an array's length, {field} the unknown field, {fields} the known ones.
 */
export const ERROR_KEYWORDS = ["x-error", "x-errors", "x-unknown", "x-code"] as const;

const UNKNOWN_FIELD = "unknown field '{field}': allowed are {fields}";

interface Annotated {
  "x-error"?: string;
  "x-errors"?: Record<string, string>;
  "x-unknown"?: string;
  "x-code"?: string;
  properties?: Record<string, Annotated>;
}

/** A request part that does not match its schema; the error handler gives it its status. */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function newAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    // Every error, so the one reported is the one the API always reported first (see `ordered`);
    // cheap, as bodies are at most 64 KiB and 32 levels deep. `verbose`: each with its value and schema.
    allErrors: true,
    verbose: true,
    strictNumbers: true,
    coerceTypes: coerce,
    useDefaults: coerce,
    removeAdditional: false,
  });
  for (const keyword of ERROR_KEYWORDS) ajv.addKeyword({ keyword });
  return ajv;
}

type AjvError = ErrorObject<string, Record<string, unknown>, Annotated>;

/** The top-level field an error is about ("" for the value as a whole). */
function fieldOf(e: AjvError): string {
  if (e.instancePath) return e.instancePath.split("/")[1];
  return String(e.params.missingProperty ?? e.params.additionalProperty ?? "");
}

/** A refused form of the whole value first (raw SQL), then unknown fields, then the rest. */
const rank = (e: AjvError) =>
  e.instancePath === "" && e.keyword === "not"
    ? 0
    : e.instancePath === "" && e.keyword === "additionalProperties"
      ? 1
      : 2;

/**
 * Errors in the order the API checks a value: a refused form first (raw SQL), then unknown fields,
 * then the fields in the order the schema lists them, each with its errors as Ajv found them.
 */
function ordered(errors: AjvError[], fields: string[]): AjvError[] {
  const position = (e: AjvError) => {
    const i = fields.indexOf(fieldOf(e));
    return i < 0 ? fields.length : i;
  };
  return errors
    .map((e, i) => ({ e, key: [rank(e), position(e), i] }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2])
    .map(({ e }) => e);
}

/**
 * Bodies are validated as sent (no coercion: `"30"` is not a number); path and query parameters
 * arrive as text and are coerced. A body schema's `default` stands for an absent (or null) body.
 */
export function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const body = newAjv(false);
  const text = newAjv(true);
  return ({ schema, httpPart }) => {
    const validate: ValidateFunction = (httpPart === "body" ? body : text).compile(schema as object);
    const { default: fallback, properties } = schema as { default?: unknown; properties?: object };
    const fields = Object.keys(properties ?? {});
    const check = (data: unknown) => {
      const value = data === null && fallback !== undefined ? structuredClone(fallback) : data;
      const ok = validate(value);
      check.errors = ok
        ? null
        : (ordered(validate.errors as AjvError[], fields) as unknown as FastifySchemaValidationError[]);
      if (!ok) return false;
      return value === data ? true : { value };
    };
    check.errors = undefined as FastifySchemaValidationError[] | null | undefined;
    return check;
  };
}

/** `/tip_ladder/1` → `tip_ladder[1]`. */
function displayPath(instancePath: string, part: string): string {
  if (!instancePath) return part;
  return instancePath
    .slice(1)
    .split("/")
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join("");
}

function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

const json = (v: unknown): string => JSON.stringify(v) ?? "undefined";

/** An error of a union's branch that only says the value is not of that branch's type. */
const branchTypeMiss = (e: AjvError) => e.keyword === "anyOf" || /\/anyOf\/\d+\/type$/.test(e.schemaPath);

/**
 * The error to report, of the first field: the first that says more than "not of this branch's
 * type" (a number out of range, a list's item), else the union's own; and the schema that words it
 * (the innermost union's when the failing branch has no words of its own).
 */
function pick(errors: AjvError[]): { e: AjvError; words: Annotated } {
  const group = errors.filter((e) => fieldOf(e) === fieldOf(errors[0]) && rank(e) === rank(errors[0]));
  const e = group.find((x) => !branchTypeMiss(x)) ?? group.find((x) => x.keyword === "anyOf") ?? group[0];
  const own = (e.parentSchema ?? {}) as Annotated;
  if (own["x-error"] || own["x-errors"]?.[e.keyword] || e.keyword === "anyOf") return { e, words: own };
  const union = group
    .filter((x) => x.keyword === "anyOf" && e.schemaPath.startsWith(`${x.schemaPath}/`))
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length)[0];
  return { e, words: union ? ((union.parentSchema ?? {}) as Annotated) : own };
}

/** Words the first schema error of a request part from the schema's `x-` keywords. */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], part: Part): SchemaError {
  const { e, words } = pick(errors as unknown as AjvError[]);
  const schema = (e.parentSchema ?? {}) as Annotated;
  const field = String(e.params.additionalProperty ?? e.params.missingProperty ?? "");
  let path = displayPath(e.instancePath, part);
  let value: unknown = e.data;
  let owner = words;
  let template: string;
  if (e.keyword === "required") {
    owner = schema.properties?.[field] ?? {};
    path = e.instancePath ? `${path}.${field}` : field;
    value = undefined;
    template = owner["x-error"] ?? "missing field '{path}'";
  } else if (e.keyword === "additionalProperties") {
    template = schema["x-unknown"] ?? UNKNOWN_FIELD;
  } else {
    template = words["x-errors"]?.[e.keyword] ?? words["x-error"] ?? `{path} ${e.message ?? "is invalid"}`;
  }
  const message = fill(template, {
    path,
    got: json(value),
    value: typeof value === "string" ? `'${value}'` : json(value),
    count: String(Array.isArray(value) ? value.length : ""),
    field,
    fields: Object.keys(schema.properties ?? {}).join(", "),
  });
  return new SchemaError(owner["x-code"] ?? (part === "params" ? "not_found" : "bad_request"), message);
}
