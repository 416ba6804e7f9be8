import { NetworkError, ResponseError } from "../errors";

/** The part of a fetch Response the client reads; the browser's Response has it. */
export interface ResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
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
  const headers = new Headers(init.headers);
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  if (init.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  if (init.method && init.method !== "GET") headers.set("X-Requested-With", "mevlab");
  const url = baseUrl.replace(/\/$/, "") + path;
  let res: ResponseLike;
  try {
    res = await fetchImpl(url, { ...init, headers });
  } catch (err) {
    throw new NetworkError(baseUrl, err);
  }
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
  return body as T;
}
