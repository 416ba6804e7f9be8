-- mevlab event store. Generated from control-plane/src/sink/tables.ts; edit there, then run
--   node control-plane/dist/src/sink/write-ddl.js
CREATE DATABASE IF NOT EXISTS mevlab;

CREATE TABLE IF NOT EXISTS mevlab.arb_opportunities (
  ts_ms UInt64,
  ts DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
  id String,
  agent_id String,
  slot UInt64,
  tx_signature String,
  dexes String,
  hops UInt32,
  amount_in UInt64,
  gross_lamports Int64,
  fees_lamports Int64,
  tip_lamports Int64,
  net_lamports Int64,
  net_sol Float64,
  p_land_est Float64,
  ev_sol Float64,
  tip_quantile Float64,
  policy_version UInt64,
  model_id String,
  accepted UInt8,
  bundle_id String,
  landed UInt8
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, agent_id);

CREATE TABLE IF NOT EXISTS mevlab.mev_opportunities (
  ts_ms UInt64,
  ts DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
  id String,
  agent_id String,
  slot UInt64,
  attacker String,
  victim_tx String,
  dex String,
  pool String,
  victim_amount_in UInt64,
  frontrun_amount_in UInt64,
  gross_lamports Int64,
  fees_lamports Int64,
  tip_lamports Int64,
  net_lamports Int64,
  net_sol Float64,
  p_land_est Float64,
  ev_sol Float64,
  tip_quantile Float64,
  policy_version UInt64,
  model_id String,
  accepted UInt8,
  bundle_id String,
  landed UInt8
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, agent_id);

CREATE TABLE IF NOT EXISTS mevlab.bundle_outcomes (
  ts_ms UInt64,
  ts DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
  bundle_id String,
  module String,
  agent_id String,
  opportunity_id String,
  landed UInt8,
  tip_lamports UInt64,
  slot UInt64,
  latency_ms UInt32
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, bundle_id);

CREATE TABLE IF NOT EXISTS mevlab.agent_metrics (
  ts_ms UInt64,
  ts DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
  agent_id String,
  module String,
  interval_ms UInt32,
  hotpath_p50_us Float64,
  hotpath_p99_us Float64,
  send_p50_us Float64,
  send_p99_us Float64,
  opportunities_seen UInt64,
  bundles_sent UInt64,
  bundles_landed UInt64,
  pnl_lamports Int64
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, agent_id);

CREATE TABLE IF NOT EXISTS mevlab.control_acks (
  ts_ms UInt64,
  ts DateTime('UTC') MATERIALIZED toDateTime(intDiv(ts_ms, 1000), 'UTC'),
  module String,
  request_id String,
  agent_id String,
  action String,
  outcome String,
  reason String,
  policy_version UInt64,
  state String,
  throttle_pct UInt32
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (ts, request_id);
