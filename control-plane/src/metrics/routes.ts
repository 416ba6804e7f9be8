import { Type, type FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { METRICS_HISTORY_MAX_MINUTES, MetricsHistory, protoJsonProperties } from "@mevlab/kernel-helpers";
import { MetricsSummarySchema, toJson } from "@mevlab/proto";
import { READ } from "../auth/access";
import type { RequestTracker } from "../control/requests";
import type { RealtimeHub } from "../realtime/hub";
import type { EventSink } from "../sink/sink";
import { metricsHistory } from "./history";
import { PrometheusMetrics } from "./prometheus";
import type { RollingMetrics } from "./rolling";

export interface MetricsDeps {
  rolling: RollingMetrics;
  hub: RealtimeHub;
  sink?: EventSink;
  tracker: RequestTracker;
}

const SinkStats = Type.Union([
  Type.Object(
    {
      store: Type.String(),
      spool_segments: Type.Integer(),
      spool_bytes: Type.Integer(),
      last_error: Type.String(),
    },
    { additionalProperties: false },
  ),
  Type.Null({ description: "no event sink" }),
]);

const HistoryQuery = Type.Object(
  {
    minutes: Type.Optional(
      Type.Integer({ minimum: 1, maximum: METRICS_HISTORY_MAX_MINUTES, default: METRICS_HISTORY_MAX_MINUTES }),
    ),
    since: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: "only the seconds after this (ms)" }),
    ),
  },
  { additionalProperties: false },
);

const Summary = Type.Object(
  { ...protoJsonProperties(MetricsSummarySchema), sink: SinkStats },
  { additionalProperties: false, description: "mevlab.v1.MetricsSummary with every field, and the sink's state" },
);

export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsDeps> = async (app, deps) => {
  const tags = ["metrics"];
  app.get(
    "/api/metrics/summary",
    {
      config: { access: READ },
      schema: {
        summary: "hotpath_p50/p99, send_p50/p99 (ms, 60 s), landed_pct (10 min), pnl_1h (SOL), rates, node, sink",
        tags,
        response: { 200: Summary },
      },
    },
    async () => {
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
    },
  );

  app.get(
    "/api/metrics/history",
    {
      config: { access: READ },
      schema: {
        summary:
          "Per second, oldest first: cumulative PnL (SOL since start), hotpath_p99 (ms, 60 s), landed_pct (10 min)",
        tags,
        querystring: HistoryQuery,
        response: { 200: MetricsHistory },
      },
    },
    async (req) =>
      metricsHistory(deps.rolling, {
        minutes: req.query.minutes ?? METRICS_HISTORY_MAX_MINUTES,
        since: req.query.since,
      }),
  );

  const prometheus = new PrometheusMetrics({
    rolling: deps.rolling,
    hub: () => deps.hub.stats(),
    sink: deps.sink ? () => deps.sink!.stats() : undefined,
    requests: () => deps.tracker.countByState(),
  });
  /** Scrape it with a viewer token (`authorization: { credentials_file: ... }`). */
  app.get(
    "/metrics",
    {
      config: { access: READ },
      schema: {
        summary: "Prometheus text: the control plane's own and the agents' aggregated metrics",
        tags,
        response: { 200: { content: { "text/plain": { schema: Type.String() } } } },
      },
    },
    async (_req, reply) => {
      void reply.header("content-type", prometheus.contentType);
      return prometheus.text();
    },
  );
};
