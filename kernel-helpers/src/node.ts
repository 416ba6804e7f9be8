import WebSocket from "ws";
import { ControlPlaneClient, type Transport, type WebSocketLike } from "./client/control-plane";

/** Node's transport: global fetch and the `ws` package. */
export const nodeTransport: Transport = {
  fetch: (url, init) => fetch(url, init),
  webSocket: (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike,
};

/**
 * Logs in to the control plane from Node or a notebook. Defaults come from the environment:
 * MEVLAB_URL (http://127.0.0.1:8765), MEVLAB_USER, MEVLAB_PASSWORD.
 */
export function connect(
  opts: { url?: string; username?: string; password?: string } = {},
): Promise<ControlPlaneClient> {
  const url = opts.url ?? process.env.MEVLAB_URL ?? "http://127.0.0.1:8765";
  const username = opts.username ?? process.env.MEVLAB_USER ?? "";
  const password = opts.password ?? process.env.MEVLAB_PASSWORD ?? "";
  return ControlPlaneClient.login({ url, username, password, transport: nodeTransport });
}
