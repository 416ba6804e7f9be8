import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The `prev` of a log's first record. */
export const GENESIS = "0".repeat(64);

export const macOf = (key: Uint8Array, body: string): string => createHmac("sha256", key).update(body).digest("hex");

/**
 * One record as a line: the record with `prev` (the previous record's mac) and `mac`, the HMAC-SHA256
 * of the line without `mac` under the control plane's audit key. The line is what
 * `JSON.stringify({...record, prev, mac})` gives, built without serializing the record twice.
 */
export function sealRecord(key: Uint8Array, record: object, prev: string): { line: string; mac: string } {
  const body = JSON.stringify({ ...record, prev });
  const mac = macOf(key, body);
  return { line: `${body.slice(0, -1)},"mac":"${mac}"}`, mac };
}

/** A record as read back: its link fields and the bytes its mac covers. */
export interface ParsedRecord {
  fields: Record<string, unknown>;
  prev: string;
  /** `mac` of a keyed record, `hash` of a pre-HMAC one. */
  seal: string;
  /** True for a record of the unkeyed sha256 chain written before the HMAC (field `hash`). */
  legacy: boolean;
  body: string;
}

/** Parses one line; a string says why it is not a record. */
export function parseRecord(text: string): ParsedRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `bad JSON (${(err as Error).message})`;
  }
  return toRecord(value);
}

/** A parsed line as a record; a string says why it is not one. */
export function toRecord(value: unknown): ParsedRecord | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "bad JSON: not an object";
  const { mac, hash, ...rest } = value as Record<string, unknown>;
  const seal = mac ?? hash;
  if (typeof seal !== "string" || typeof rest.prev !== "string") return "not an audit record: no prev and mac";
  return { fields: rest, prev: rest.prev, seal, legacy: mac === undefined, body: JSON.stringify(rest) };
}

/** Whether the record's seal is right: the HMAC under `key`, or for a pre-HMAC record the sha256. */
export function sealIsValid(record: ParsedRecord, key: Uint8Array): boolean {
  const expected = record.legacy ? createHash("sha256").update(record.body).digest("hex") : macOf(key, record.body);
  const a = Buffer.from(expected);
  const b = Buffer.from(record.seal);
  return a.length === b.length && timingSafeEqual(a, b);
}
