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
  /** The last seq received per stream, in `epoch`: where a reopened connection resumes. */
  private lastSeq: Record<string, bigint> = {};
  private epoch = "";

  constructor(
    private readonly url: string,
    private readonly token: () => Promise<string>,
    private readonly factory: WebSocketFactory,
    private readonly onEvents: (events: Event[]) => void,
  ) {}

  /**
   * The open connection, or a new one. What it carries is chosen once: a later call without a
   * request (a command waiting for its outcome) reopens the same streams. A reopened connection
   * resumes after the last event received (since_seq in its epoch), unless the request says where.
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
      sinceSeq: request?.sinceSeq ?? this.resumePoint.sinceSeq,
      epoch: request?.epoch ?? this.resumePoint.epoch,
    };
    const ready = (this.ready ??= this.token()
      .then((token) => RealtimeConnection.open(this.url, token, this.factory, subscribe))
      .then((conn) => {
        if (conn.hello.epoch !== this.epoch) this.lastSeq = {};
        this.epoch = conn.hello.epoch;
        conn.listen({
          onEvents: (events) => {
            for (const e of events) this.lastSeq[Stream[e.stream]] = e.seq;
            this.onEvents(events);
          },
        });
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

  /** Where a reopened connection resumes: after the last event received, in its epoch (none yet: from now). */
  get resumePoint(): Pick<SubscribeRequest, "sinceSeq" | "epoch"> {
    return this.epoch ? { sinceSeq: { ...this.lastSeq }, epoch: this.epoch } : {};
  }

  async close(): Promise<void> {
    const ready = this.ready;
    this.ready = undefined;
    if (ready) (await ready.catch(() => undefined))?.close();
  }
}
