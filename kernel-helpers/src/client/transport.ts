import type { FetchLike } from "./http";

/** The part of the WebSocket API mevlab needs: the browser's WebSocket and `ws` both have it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

/** How the client reaches the control plane: the browser's fetch and WebSocket, or Node's (node-transport). */
export interface Transport {
  fetch: FetchLike;
  webSocket: WebSocketFactory;
  /** A local file's bytes, undefined when there is none (Node's transport; a browser has no paths). */
  readFile?: (path: string) => Promise<Uint8Array | undefined>;
}
