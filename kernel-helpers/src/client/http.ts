import { NetworkError, ResponseError } from "../errors";

/** The part of a fetch Response the client reads; the browser's Response has it. */
export interface ResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
  /** The body as bytes (the browser's Response has it; needed only for binary answers). */
  arrayBuffer?(): Promise<ArrayBuffer>;
}

export type FetchLike = (url: string, init?: RequestInit) => Promise<ResponseLike>;

/**
 * The one HTTP wrapper: network failures become NetworkError (with what to check), error statuses
 * become ResponseError carrying the server's own explanation.
 */
export async function requestJson<T>(
  fetchImpl: FetchLike,
  baseUrl: string,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<T> {
  return (await send(fetchImpl, baseUrl, path, init)).body as T;
}

/** A binary answer's bytes; errors as requestJson's. */
export async function requestBytes(
  fetchImpl: FetchLike,
  baseUrl: string,
  path: string,
  init: RequestInit & { token?: string } = {},
): Promise<Uint8Array> {
  const res = (await send(fetchImpl, baseUrl, path, init, true)).res;
  if (!res.arrayBuffer) throw new Error("this transport's fetch cannot read binary bodies (no arrayBuffer())");
  return new Uint8Array(await res.arrayBuffer());
}

async function send(
  fetchImpl: FetchLike,
  baseUrl: string,
  path: string,
  init: RequestInit & { token?: string },
  binary = false,
): Promise<{ res: ResponseLike; body?: unknown }> {
  // A plain record, not a Headers object: the fetch of every runtime takes one, and on the control
  // loop's hot path building and converting a Headers costs more than the rest of the request.
  const headers: Record<string, string> = {};
  if (init.headers) new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  if (init.token) headers["authorization"] = `Bearer ${init.token}`;
  if (init.body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  if (init.method && init.method !== "GET") headers["x-requested-with"] = "mevlab";
  const url = baseUrl.replace(/\/$/, "") + path;
  let res: ResponseLike;
  try {
    res = await fetchImpl(url, { ...init, headers });
  } catch (err) {
    throw new NetworkError(baseUrl, err);
  }
  if (binary && res.ok) return { res };
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ResponseError(res.status, error?.code ?? "http_error", error?.message ?? (text || res.statusText));
  }
  return { res, body };
}
