/**
 * The thread a model runs in: it loads the session (tens of ms for a large tree ensemble, which would
 * stall the agent's opportunities if it ran on the main thread), warms it, then scores each row of a
 * batch with its own single-row run, timing each: the hot path as a one-at-a-time agent has it.
 */
import { parentPort } from "node:worker_threads";
import { InferenceSession, Tensor } from "onnxruntime-node";

export type ToWorker =
  | { type: "load"; bytes: Uint8Array; features: number; warmRuns: number }
  | { type: "score"; seq: number; rows: Float32Array; n: number };

export type FromWorker =
  | { type: "loaded"; loadMs: number; warmMs: number }
  | { type: "scored"; seq: number; p: Float32Array; us: Float64Array }
  | { type: "error"; seq?: number; message: string };

let session: InferenceSession | undefined;
let width = 0;

async function load(msg: Extract<ToWorker, { type: "load" }>): Promise<FromWorker> {
  const t0 = performance.now();
  const s = await InferenceSession.create(msg.bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  });
  const t1 = performance.now();
  if (s.inputNames.length !== 1 || s.inputNames[0] !== "features" || !s.outputNames.includes("probability")) {
    throw new Error(
      `not a mevlab model: inputs ${s.inputNames.join(", ")}, outputs ${s.outputNames.join(", ")} (wants features → probability)`,
    );
  }
  const row = new Float32Array(msg.features);
  for (let i = 0; i < msg.warmRuns; i++) {
    const out = await s.run({ features: new Tensor("float32", row, [1, msg.features]) }, ["probability"]);
    const p = (out.probability.data as Float32Array)[0];
    if (!(p >= 0 && p <= 1)) throw new Error(`its probability for a row of zeros is ${p}, not in [0, 1]`);
  }
  session = s;
  width = msg.features;
  return { type: "loaded", loadMs: t1 - t0, warmMs: performance.now() - t1 };
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
  const work = msg.type === "load" ? load(msg) : score(msg);
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
