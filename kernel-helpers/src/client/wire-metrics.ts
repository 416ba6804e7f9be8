import { Type, type Static } from "@sinclair/typebox";

// GET /api/metrics/history, defined once (wire.ts explains why): the control plane serves it as its
// response schema and the client's type derives from it.

/** The longest history the control plane keeps and answers, in minutes. */
export const METRICS_HISTORY_MAX_MINUTES = 60;

const orNull = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

/**
 * One point per second, oldest first, in columns of equal length. A point is the second's metrics as
 * the summary gave them at its end; null where its window had nothing to measure.
 */
export const MetricsHistory = Type.Object(
  {
    started_at: Type.Integer({ description: "when the control plane started counting (ms since the epoch)" }),
    ts: Type.Array(Type.Integer(), { description: "each point's second (its start, ms since the epoch)" }),
    cumulative_pnl_sol: Type.Array(Type.Number(), {
      description: "net SOL of every landed bundle the agents reported since the control plane started",
    }),
    hotpath_p99_ms: Type.Array(orNull("hot path p99 over the 60 s to the point (ms); null: no sample")),
    landed_pct: Type.Array(orNull("bundles landed / sent over the 10 min to the point (0–1); null: none sent")),
  },
  { additionalProperties: false },
);
export type MetricsHistory = Static<typeof MetricsHistory>;
