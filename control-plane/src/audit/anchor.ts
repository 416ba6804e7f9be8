import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, relative, resolve, isAbsolute } from "node:path";
import { macOf } from "./chain";

/** The log's head as last seen: `count` records, the last one's mac `head`. */
export interface Anchor {
  count: number;
  head: string;
  ts: string;
}

/** Where the head is kept, outside the data dir. */
export interface AnchorTarget {
  readonly uri: string;
  /** The anchor's text, or undefined when there is none yet. */
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

export class AnchorError extends Error {
  override readonly name = "AnchorError";
}

/** The anchor as stored: its fields and their HMAC under the audit key (a log line never has this shape). */
export function sealAnchor(key: Uint8Array, anchor: Anchor): string {
  const body = JSON.stringify({ anchor: 1, count: anchor.count, head: anchor.head, ts: anchor.ts });
  return `${body.slice(0, -1)},"mac":"${macOf(key, body)}"}\n`;
}

/** Reads a stored anchor; throws AnchorError when it is malformed or its HMAC is not this key's. */
export function openAnchor(key: Uint8Array, text: string): Anchor {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new AnchorError(`not an anchor: bad JSON (${(err as Error).message})`);
  }
  const { mac, ...body } = value;
  const { count, head, ts } = body;
  if (body.anchor !== 1 || !Number.isSafeInteger(count) || typeof head !== "string" || typeof ts !== "string") {
    throw new AnchorError("not an anchor: needs anchor, count, head, ts and mac");
  }
  if (mac !== macOf(key, JSON.stringify(body))) {
    throw new AnchorError("bad HMAC: the anchor was edited, or written with another key");
  }
  return { count: count as number, head, ts };
}

/**
 * `MEVLAB_AUDIT_ANCHOR`: a file path (absolute, or relative to the working directory) outside the
 * data dir. Whoever can rewrite the log can rewrite an anchor beside it, so one inside is refused.
 */
export function anchorTarget(spec: string, dataDir: string): AnchorTarget {
  if (spec.startsWith("s3://")) {
    throw new AnchorError(`audit anchor ${spec}: S3 anchors are not supported yet; use a file path`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new AnchorError(`audit anchor ${spec}: only a file path`);
  const file = resolve(spec);
  const rel = relative(resolve(dataDir), file);
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
    throw new AnchorError(`audit anchor ${file} is inside the data dir ${dataDir}: put it somewhere else`);
  }
  return new FileAnchor(file);
}

/** A file replaced whole: written beside it, flushed, renamed over it. */
export class FileAnchor implements AnchorTarget {
  readonly uri: string;

  constructor(readonly file: string) {
    this.uri = file;
  }

  read(): Promise<string | undefined> {
    return Promise.resolve(existsSync(this.file) ? readFileSync(this.file, "utf8") : undefined);
  }

  write(text: string): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    return Promise.resolve();
  }
}
