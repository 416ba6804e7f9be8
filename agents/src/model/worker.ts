/**
 * The thread a model runs in: it loads the session (tens of ms for a large tree ensemble, which would
 * stall the agent's opportunities if it ran on the main thread), warms it, then scores each row of a
 * batch with its own single-row run, timing each: the hot path as a one-at-a-time agent has it.
 */
import { parentPort } from "node:worker_threads";
import { InferenceSession, Tensor } from "onnxruntime-node";

export type ToWorker =
  | { type: "load"; bytes: Uint8Array }
  | { type: "warm"; features: number; runs: number }
  | { type: "score"; seq: number; rows: Float32Array; n: number };

type ValueInfo = InferenceSession.ValueMetadata;

export type FromWorker =
  | { type: "loaded"; loadMs: number; inputs: ValueInfo[]; outputs: ValueInfo[] }
  | { type: "warmed"; warmMs: number }
  | { type: "scored"; seq: number; p: Float32Array; us: Float64Array }
  | { type: "error"; seq?: number; message: string };

let session: InferenceSession | undefined;
let width = 0;

/** Creates the session; the caller checks its inputs and outputs against the contract before warming it. */
async function load(msg: Extract<ToWorker, { type: "load" }>): Promise<FromWorker> {
  const t0 = performance.now();
  session = await InferenceSession.create(msg.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const meta = (v: ValueInfo): ValueInfo => ({ ...v });
  return {
    type: "loaded",
    loadMs: performance.now() - t0,
    inputs: session.inputMetadata.map(meta),
    outputs: session.outputMetadata.map(meta),
  };
}

async function warm(msg: Extract<ToWorker, { type: "warm" }>): Promise<FromWorker> {
  if (!session) throw new Error("no model loaded");
  const t0 = performance.now();
  const row = new Float32Array(msg.features);
  for (let i = 0; i < msg.runs; i++) {
    const out = await session.run({ features: new Tensor("float32", row, [1, msg.features]) }, ["probability"]);
    const p = (out.probability.data as Float32Array)[0];
    if (!(p >= 0 && p <= 1)) throw new Error(`its probability for a row of zeros is ${p}, not in [0, 1]`);
  }
  width = msg.features;
  return { type: "warmed", warmMs: performance.now() - t0 };
}

async function score(msg: Extract<ToWorker, { type: "score" }>): Promise<FromWorker> {
  if (!session) throw new Error("no model loaded");
  const p = new Float32Array(msg.n);
  const us = new Float64Array(msg.n);
  for (let i = 0; i < msg.n; i++) {
    const t0 = process.hrtime.bigint();
    const x = new Tensor("float32", msg.rows.subarray(i * width, (i + 1) * width), [1, width]);
    const out = await session.run({ features: x }, ["probability"]);
    p[i] = (out.probability.data as Float32Array)[0];
    us[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return { type: "scored", seq: msg.seq, p, us };
}

parentPort?.on("message", (msg: ToWorker) => {
  const work = msg.type === "load" ? load(msg) : msg.type === "warm" ? warm(msg) : score(msg);
  work.then(
    (reply) => {
      const transfer = reply.type === "scored" ? [reply.p.buffer, reply.us.buffer] : [];
      parentPort?.postMessage(reply, transfer as ArrayBuffer[]);
    },
    (err: unknown) =>
      parentPort?.postMessage({
        type: "error",
        seq: msg.type === "score" ? msg.seq : undefined,
        message: err instanceof Error ? err.message : String(err),
      } satisfies FromWorker),
  );
});
