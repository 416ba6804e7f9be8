/** Base of every error mevlab's helper library throws; `cause` keeps the chain. */
export class MevlabError extends Error {
  override readonly name: string = "MevlabError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class BusError extends MevlabError {
  override readonly name = "BusError";
  readonly retriable: boolean;
  readonly topic?: string;
  constructor(message: string, options: { retriable: boolean; topic?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retriable = options.retriable;
    this.topic = options.topic;
  }
}

/** The control plane could not be reached at all (down, wrong URL, refused, DNS). */
export class NetworkError extends MevlabError {
  override readonly name = "NetworkError";
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(
      `cannot reach the mevlab control plane at ${url}: ${describe(cause)}. ` +
        "Is it running (`mevlab up` or `mevlab control-plane`), and is the URL right?",
      { cause },
    );
    this.url = url;
  }
}

/** The control plane answered with an error status; `message` is its explanation. */
export class ResponseError extends MevlabError {
  override readonly name = "ResponseError";
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export class TimeoutError extends MevlabError {
  override readonly name = "TimeoutError";
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

/** Bytes that are not what they claim to be: a broken Arrow stream, a corrupt compressed buffer. */
export class DecodeError extends MevlabError {
  override readonly name = "DecodeError";
}

/** A slice, query, export or DuckDB call that cannot run as asked; `message` names the argument or the limit. */
export class DataError extends MevlabError {
  override readonly name = "DataError";
  /** The argument at fault (`from`, `output`, `params.limit`, …) when there is one. */
  readonly field?: string;
  constructor(message: string, options?: { field?: string; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.field = options?.field;
  }
}

/** ClickHouse answered with an error; `code` is its numeric exception code when it sent one. */
export class ClickHouseError extends MevlabError {
  override readonly name = "ClickHouseError";
  readonly code?: number;
  constructor(message: string, options?: { code?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.code = options?.code;
  }
}

/**
 * The trainer (`python -m mevlab.train`) failed or was cancelled. `code` is its error code
 * (docs/training.md: `bad_input`, `one_class`, `cancelled`, …), or `spawn_failed` when Python could
 * not be started and `protocol` when it ended without an `error` event.
 */
export class TrainError extends MevlabError {
  override readonly name = "TrainError";
  readonly code: string;
  /** The trainer's exit status (null when a signal ended it). */
  readonly exitCode: number | null;
  /** The `error` event's other fields: `model`, `column`, `columns`, `param`, `split`, `path`, … */
  readonly details: Readonly<Record<string, unknown>>;
  /** The last lines the trainer wrote on stderr. */
  readonly logTail: readonly string[];
  constructor(
    code: string,
    message: string,
    options: {
      exitCode?: number | null;
      details?: Record<string, unknown>;
      logTail?: readonly string[];
      cause?: unknown;
    } = {},
  ) {
    super(`${code}: ${message}`, { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? null;
    this.details = options.details ?? {};
    this.logTail = options.logTail ?? [];
  }
}
