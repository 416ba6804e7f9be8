import type { Hello } from "@mevlab/proto";
import { MevlabError, NetworkError } from "../errors";
import { REALTIME_PROTOCOL, RealtimeSession, type RealtimeListener, type SubscribeRequest } from "./realtime";
import type { WebSocketFactory, WebSocketLike } from "./transport";

/** One open realtime WebSocket. Resolves `open` once the server has confirmed the subscription. */
export class RealtimeConnection {
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();

  private constructor(
    private readonly ws: WebSocketLike,
    readonly session: RealtimeSession,
    readonly hello: Hello,
  ) {}

  static open(
    baseUrl: string,
    token: string,
    factory: WebSocketFactory,
    request: SubscribeRequest,
  ): Promise<RealtimeConnection> {
    const url = baseUrl.replace(/^http/, "ws").replace(/\/$/, "") + "/api/realtime/ws";
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = factory(url, [REALTIME_PROTOCOL, `bearer.${token}`]);
      } catch (err) {
        reject(new NetworkError(baseUrl, err));
        return;
      }
      ws.binaryType = "arraybuffer";
      const session = new RealtimeSession((data) => ws.send(data));
      let conn: RealtimeConnection | undefined;
      const stopHello = session.listen({
        onHello: (hello) => {
          stopHello();
          conn = new RealtimeConnection(ws, session, hello);
          resolve(conn);
        },
        onError: (code, message) => reject(new MevlabError(`realtime: ${code}: ${message}`)),
      });
      ws.onopen = () => session.subscribe(request);
      ws.onmessage = (ev) => session.handleMessage(ev.data as string | ArrayBuffer);
      ws.onerror = () => {
        if (!conn) reject(new NetworkError(baseUrl, new Error(`WebSocket to ${url} failed`)));
      };
      ws.onclose = (ev) => {
        if (!conn) reject(new NetworkError(baseUrl, new Error(`WebSocket closed: ${ev.code} ${ev.reason}`)));
        else for (const l of conn.closeListeners) l(ev.code, ev.reason);
      };
    });
  }

  listen(listener: RealtimeListener): () => void {
    return this.session.listen(listener);
  }

  onClose(listener: (code: number, reason: string) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): void {
    this.ws.close(1000, "client closed");
  }
}
