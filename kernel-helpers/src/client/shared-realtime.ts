import { Format, Stream, type Event } from "@mevlab/proto";
import type { SubscribeRequest } from "./realtime";
import { RealtimeConnection } from "./realtime-connection";
import type { WebSocketFactory } from "./transport";

/**
 * A client's one realtime connection, opened on first need and again after it closed or could not
 * open. It always carries the final record of every request (`control_request`, final only), through
 * which commands learn their outcome.
 */
export class SharedRealtime {
  private ready?: Promise<RealtimeConnection>;
  private streamsRequest: Pick<SubscribeRequest, "streams" | "modules"> = {};

  constructor(
    private readonly url: string,
    private readonly token: () => Promise<string>,
    private readonly factory: WebSocketFactory,
    private readonly onEvents: (events: Event[]) => void,
  ) {}

  /**
   * The open connection, or a new one. What it carries is chosen once: a later call without a
   * request (a command waiting for its outcome) reopens the same streams; since_seq and epoch are
   * for the opening they come with.
   */
  open(request?: SubscribeRequest): Promise<RealtimeConnection> {
    if (request?.streams || request?.modules) {
      this.streamsRequest = { streams: request.streams, modules: request.modules };
    }
    const subscribe = {
      streams: [...(this.streamsRequest.streams ?? [Stream.agent_status]), Stream.control_request],
      modules: this.streamsRequest.modules,
      format: request?.format ?? Format.protobuf,
      finalRequests: true,
      sinceSeq: request?.sinceSeq,
      epoch: request?.epoch,
    };
    const ready = (this.ready ??= this.token()
      .then((token) => RealtimeConnection.open(this.url, token, this.factory, subscribe))
      .then((conn) => {
        conn.listen({ onEvents: this.onEvents });
        conn.onClose(() => {
          if (this.ready === ready) this.ready = undefined;
        });
        return conn;
      }));
    // A connection that could not open is not kept: the next call tries again.
    ready.catch(() => {
      if (this.ready === ready) this.ready = undefined;
    });
    return ready;
  }

  async close(): Promise<void> {
    const ready = this.ready;
    this.ready = undefined;
    if (ready) (await ready.catch(() => undefined))?.close();
  }
}
