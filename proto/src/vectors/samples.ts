import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import {
  AckOutcome,
  Action,
  AgentState,
  AgentStatusSchema,
  ControlAckSchema,
  ControlCommandSchema,
  ControlRequestSchema,
  ControlRequest_State,
  Module,
  PolicySchema,
} from "../gen/mevlab/v1/control_pb";
import {
  ArbOpportunitySchema,
  BundleOutcomeSchema,
  MetricsUpdateSchema,
  MevOpportunitySchema,
} from "../gen/mevlab/v1/market_pb";
import { ClientFrameSchema, Format, ServerFrameSchema, Stream } from "../gen/mevlab/v1/realtime_pb";
import { LinkFrameSchema } from "../gen/mevlab/v1/link_pb";

export interface Sample<S extends DescMessage = DescMessage> {
  schema: S;
  message: MessageShape<S>;
}

function sample<S extends DescMessage>(schema: S, message: MessageShape<S>): Sample {
  return { schema, message } as unknown as Sample;
}

const TS = 1_755_310_001_123n;
// Values past 2^53 prove that 64-bit integers survive every encoding exactly.
const BIG_LAMPORTS = 9_007_199_254_740_993n;

const decisionMeta = {
  pLandEst: 0.83,
  evSol: 0.00142,
  tipPolicy: { ladder: [0.5, 0.7, 0.85, 0.95], quantile: 0.85, tipLamports: 140_000n },
  modelId: "p_land-xgb-2025-08-15-3f9c2a",
  policyVersion: 12n,
  accepted: true,
};

/** One realistic instance of every top-level message of mevlab.v1: the golden vectors. */
export const SAMPLES: readonly Sample[] = [
  sample(
    ControlCommandSchema,
    create(ControlCommandSchema, {
      schemaVersion: 1,
      ts: TS,
      module: Module.mev,
      action: Action.throttle,
      args: { throttlePct: 30, evMin: 0.0006, tipLadder: [0.5, 0.7, 0.85, 0.95], kill: false },
      requestId: "6f1c0d3e-9a8b-4c2d-8e7f-1a2b3c4d5e6f",
      issuer: "admin",
      notAfter: TS + 10_000n,
    }),
  ),
  sample(
    ControlAckSchema,
    create(ControlAckSchema, {
      schemaVersion: 1,
      ts: TS + 3n,
      module: Module.mev,
      requestId: "6f1c0d3e-9a8b-4c2d-8e7f-1a2b3c4d5e6f",
      agentId: "mev-1",
      outcome: AckOutcome.applied,
      policyVersion: 12n,
      state: AgentState.throttled,
      throttlePct: 30,
      action: Action.throttle,
    }),
  ),
  sample(
    ControlRequestSchema,
    create(ControlRequestSchema, {
      schemaVersion: 1,
      requestId: "0b7e5d1c-2f3a-4b6c-9d8e-7f6a5b4c3d2e",
      modules: [Module.arbitrage, Module.mev],
      action: Action.kill,
      args: { kill: true },
      issuer: "admin",
      createdAt: TS,
      notAfter: TS + 10_000n,
      state: ControlRequest_State.applied,
      expectedAgents: ["arbitrage-1", "mev-1"],
      outcomes: [
        {
          agentId: "mev-1",
          outcome: AckOutcome.applied,
          at: TS + 2n,
          state: AgentState.killed,
          policyVersion: 12n,
          throttlePct: 40,
        },
        {
          agentId: "arbitrage-1",
          outcome: AckOutcome.applied,
          at: TS + 3n,
          state: AgentState.killed,
          policyVersion: 7n,
        },
      ],
      completedAt: TS + 3n,
    }),
  ),
  sample(
    AgentStatusSchema,
    create(AgentStatusSchema, {
      schemaVersion: 1,
      ts: TS,
      agentId: "arbitrage-1",
      module: Module.arbitrage,
      state: AgentState.running,
      throttlePct: 0,
      policyVersion: 7n,
      modelId: "",
      startedAt: TS - 3_600_000n,
      commandsApplied: 42n,
      version: "0.1.0",
      bootId: "4f1c2a9e-7b3d-4e8a-9c61-0d2e5f7a8b90",
    }),
  ),
  sample(
    PolicySchema,
    create(PolicySchema, {
      schemaVersion: 1,
      module: Module.mev,
      version: 12n,
      parentVersion: 11n,
      evMin: 0.0008,
      tipLadder: [0.5, 0.7, 0.85, 0.95],
      throttlePct: 0,
      kill: false,
      modelId: "p_land-xgb-2025-08-15-3f9c2a",
      author: "admin",
      reason: "new p_land model, +4% landed at equal tip spend",
      createdAt: TS,
    }),
  ),
  sample(
    ArbOpportunitySchema,
    create(ArbOpportunitySchema, {
      schemaVersion: 1,
      version: "sota-1",
      ts: TS,
      id: "arb-358412907-0",
      agentId: "arbitrage-1",
      slot: 358_412_907n,
      txSignature: "5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW",
      route: [
        {
          dex: "Raydium",
          pool: "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2",
          inMint: "So11111111111111111111111111111111111111112",
          outMint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
          amountIn: 2_000_000_000n,
          amountOut: 312_450_000n,
        },
        {
          dex: "Orca",
          pool: "Czfq3xZZDmsdGdUyrNLtRhGc47cXcZtLG4crryfu44zE",
          inMint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
          outMint: "So11111111111111111111111111111111111111112",
          amountIn: 312_450_000n,
          amountOut: 2_004_100_000n,
        },
      ],
      profit: {
        grossLamports: 4_100_000n,
        feesLamports: 10_000n,
        tipLamports: 140_000n,
        netLamports: 3_950_000n,
        netSol: 0.00395,
      },
      decisionMeta,
      features: {
        tipFloorP25Lamports: 11_000n,
        tipFloorP50Lamports: 25_000n,
        tipFloorP75Lamports: 62_000n,
        tipFloorP95Lamports: 410_000n,
        tipRatioP75: 2.258,
        hotpathUs: 712.5,
        competingBundles: 9,
        poolLiquidityLamports: 1_850_000_000_000n,
        routeHops: 2,
        leaderSlotIndex: 1,
      },
      counterfactual: { wouldLand: false, netLamportsIfSent: 0n },
    }),
  ),
  sample(
    MevOpportunitySchema,
    create(MevOpportunitySchema, {
      schemaVersion: 1,
      version: "sota-1",
      ts: TS,
      id: "mev-358412907-3",
      agentId: "mev-1",
      slot: 358_412_907n,
      attacker: "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU",
      victimTx: "3nQ8kq7b4pxjH9mF2TtQK7Hc1pM5xWQf8Fv4g9LkqJ2cY6dR1sZ3hN8aB5eW7uV2tX4yC9mK1nP6qL3rS8jD4fG",
      dex: "PumpSwap",
      pool: "9wFFyRfZBsuAha4YcuxcXLKwMxJR43S7fPfQLusDBzvT",
      victimAmountIn: BIG_LAMPORTS,
      frontrunAmountIn: 1_500_000_000n,
      profit: {
        grossLamports: 2_300_000n,
        feesLamports: 15_000n,
        tipLamports: 140_000n,
        netLamports: 2_145_000n,
        netSol: 0.002145,
      },
      decisionMeta,
      outcome: {
        bundleId: "b-358412907-3",
        landed: true,
        landedSlot: 358_412_908n,
        tipLamports: 140_000n,
      },
      features: {
        tipFloorP25Lamports: 11_000n,
        tipFloorP50Lamports: 25_000n,
        tipFloorP75Lamports: 62_000n,
        tipFloorP95Lamports: 410_000n,
        tipRatioP75: 2.258,
        hotpathUs: 930.25,
        competingBundles: 9,
        poolLiquidityLamports: BIG_LAMPORTS * 100n,
        victimPoolRatio: 0.01,
        leaderSlotIndex: 1,
      },
      counterfactual: { wouldLand: true, netLamportsIfSent: 2_145_000n },
    }),
  ),
  sample(
    BundleOutcomeSchema,
    create(BundleOutcomeSchema, {
      schemaVersion: 1,
      ts: TS + 400n,
      bundleId: "b-358412907-3",
      module: Module.mev,
      agentId: "mev-1",
      opportunityId: "mev-358412907-3",
      landed: true,
      tipLamports: 140_000n,
      slot: 358_412_908n,
      latencyMs: 412,
    }),
  ),
  sample(
    MetricsUpdateSchema,
    create(MetricsUpdateSchema, {
      schemaVersion: 1,
      ts: TS,
      agentId: "mev-1",
      module: Module.mev,
      hotpathUs: {
        bounds: [100, 250, 500, 1000, 2500, 5000],
        counts: [12n, 240n, 610n, 95n, 8n, 1n, 0n],
        count: 966n,
        sum: 451_220,
      },
      sendUs: {
        bounds: [1000, 2500, 5000, 10000, 25000],
        counts: [3n, 41n, 22n, 4n, 1n, 0n],
        count: 71n,
        sum: 248_900,
      },
      opportunitiesSeen: 966n,
      bundlesSent: 71n,
      bundlesLanded: 52n,
      pnlLamports: -1_250_000n,
    }),
  ),
  sample(
    ClientFrameSchema,
    create(ClientFrameSchema, {
      schemaVersion: 1,
      frame: {
        case: "subscribe",
        value: {
          streams: [Stream.control_request, Stream.mev_opportunity],
          modules: [Module.mev],
          format: Format.protobuf,
          sinceSeq: { mev_opportunity: 1200n },
          finalRequests: true,
        },
      },
    }),
  ),
  sample(
    ServerFrameSchema,
    create(ServerFrameSchema, {
      schemaVersion: 1,
      frame: {
        case: "batch",
        value: {
          events: [
            {
              stream: Stream.control_ack,
              seq: 88n,
              payload: {
                case: "controlAck",
                value: {
                  schemaVersion: 1,
                  ts: TS + 3n,
                  module: Module.mev,
                  requestId: "6f1c0d3e-9a8b-4c2d-8e7f-1a2b3c4d5e6f",
                  agentId: "mev-1",
                  outcome: AckOutcome.rejected,
                  reason: "throttle_pct must be an integer 0-100",
                  action: Action.throttle,
                },
              },
            },
          ],
        },
      },
    }),
  ),
  sample(
    LinkFrameSchema,
    create(LinkFrameSchema, {
      schemaVersion: 1,
      frame: {
        case: "delivery",
        value: {
          subscription: 3n,
          record: {
            topic: "control-commands",
            key: "mev",
            value: new Uint8Array([8, 1, 16, 2]),
            headers: { "mevlab-schema-version": "1" },
            offset: 17n,
            timestamp: TS,
          },
        },
      },
    }),
  ),
];
