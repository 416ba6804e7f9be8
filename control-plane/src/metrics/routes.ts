import type { FastifyInstance } from "fastify";
import { MetricsSummarySchema, toJson } from "@mevlab/proto";
import { authenticate } from "../auth/guard";
import type { TokenService } from "../auth/tokens";
import type { RequestTracker } from "../control/requests";
import type { RealtimeHub } from "../realtime/hub";
import type { EventSink } from "../sink/sink";
import { prometheusText } from "./prometheus";
import type { RollingMetrics } from "./rolling";

export function metricsRoutes(
  app: FastifyInstance,
  deps: { tokens: TokenService; rolling: RollingMetrics; hub: RealtimeHub; sink?: EventSink; tracker: RequestTracker },
): void {
  /** The blueprint's summary: hotpath_p50/p99, send_p50/p99, landed_pct, pnl_1h, plus rates and node. */
  app.get("/api/metrics/summary", async (req) => {
    await authenticate(req, deps.tokens);
    const summary = toJson(MetricsSummarySchema, deps.rolling.summary(), {
      useProtoFieldName: true,
      alwaysEmitImplicit: true,
    }) as Record<string, unknown>;
    const sink = deps.sink?.stats();
    return {
      ...summary,
      sink: sink
        ? {
            store: sink.kind,
            spool_segments: sink.spoolSegments,
            spool_bytes: sink.spoolBytes,
            last_error: sink.lastError,
          }
        : null,
    };
  });

  /** Prometheus text; scrape it with a viewer token (`authorization: { credentials_file: ... }`). */
  app.get("/metrics", async (req, reply) => {
    await authenticate(req, deps.tokens);
    void reply.header("content-type", "text/plain; version=0.0.4; charset=utf-8");
    return prometheusText({
      rolling: deps.rolling,
      hub: () => deps.hub.stats(),
      sink: deps.sink ? () => deps.sink!.stats() : undefined,
      requests: () => deps.tracker.countByState(),
    });
  });
}
