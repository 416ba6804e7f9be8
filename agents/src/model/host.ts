/**
 * A verified, loaded and warm model in its own thread (worker.ts). Opening one never blocks the agent's
 * main thread for long: the hash is computed off-thread, the bytes are handed over without a copy.
 */
import { webcrypto } from "node:crypto";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { modelFeaturesProblem } from "@mevlab/kernel-helpers";
import { contractProblem, onnxFeatureNames } from "@mevlab/kernel-helpers/evaluate";
import type { ModelInputs } from "../simulate";
import { rowWriter, type RowWriter } from "./inputs";
import type { FromWorker, ToWorker } from "./worker";

/** Why an agent will not run a model: the reason its `rejected` ack carries. */
export class ModelRefused extends Error {
  override name = "ModelRefused";
}

const LOAD_TIMEOUT_MS = 60_000;
const WARM_RUNS = 20;

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", bytes)).toString("hex");
}

export interface Scored {
  p: Float32Array;
  /** Each row's single-row run, µs. */
  us: Float64Array;
}

export class ModelHost {
  private seq = 0;
  private readonly pending = new Map<number, { resolve(s: Scored): void; reject(e: Error): void }>();
  private closed = false;

  private constructor(
    readonly id: string,
    readonly features: readonly string[],
    private readonly worker: Worker,
    private readonly write: RowWriter,
    readonly loadMs: number,
  ) {
    worker.on("message", (msg: FromWorker) => this.onMessage(msg));
    worker.on("error", (err) => this.failAll(err));
    worker.on("exit", () => this.failAll(new Error(`model ${id.slice(0, 12)}: its thread exited`)));
  }

  /**
   * Checks the bytes against their id, their inputs against what the module's agents compute, loads
   * them in a new thread and warms them; ModelRefused says why not.
   */
  static async open(id: string, bytes: Uint8Array, module: "arbitrage" | "mev"): Promise<ModelHost> {
    const got = await sha256Hex(bytes);
    if (got !== id)
      throw new ModelRefused(`model ${id.slice(0, 12)}: its bytes hash to ${got.slice(0, 12)}, not its id`);
    let names: string[] | undefined;
    try {
      names = onnxFeatureNames(bytes);
    } catch (err) {
      throw new ModelRefused(`model ${id.slice(0, 12)}: not an ONNX file (${(err as Error).message})`);
    }
    const problem = modelFeaturesProblem(module, names ?? []);
    if (problem || !names) throw new ModelRefused(`model ${id.slice(0, 12)}: ${problem}`);
    const worker = new Worker(join(__dirname, "worker.js"));
    worker.unref();
    let step = "onnxruntime refused it";
    try {
      const loaded = await request(worker, { type: "load", bytes }, "loaded");
      const broken = contractProblem(loaded.inputs, loaded.outputs, names.length);
      if (broken) {
        step = "not a mevlab model";
        throw new Error(broken);
      }
      await request(worker, { type: "warm", features: names.length, runs: WARM_RUNS }, "warmed");
      return new ModelHost(id, names, worker, rowWriter(names), loaded.loadMs);
    } catch (err) {
      await worker.terminate();
      throw new ModelRefused(`model ${id.slice(0, 12)}: ${step}: ${(err as Error).message}`);
    }
  }

  /** Each opportunity's estimate, scored one at a time in the model's thread. */
  score(inputs: readonly ModelInputs[]): Promise<Scored> {
    if (this.closed) return Promise.reject(new Error(`model ${this.id.slice(0, 12)} is closed`));
    const width = this.features.length;
    const rows = new Float32Array(inputs.length * width);
    for (let i = 0; i < inputs.length; i++) this.write(inputs[i], rows, i * width);
    const seq = ++this.seq;
    return new Promise<Scored>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      const msg: ToWorker = { type: "score", seq, rows, n: inputs.length };
      this.worker.postMessage(msg, [rows.buffer]);
    });
  }

  /** Ends the thread once the batches it was given are scored. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 5));
    await this.worker.terminate();
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === "scored") {
      this.pending.get(msg.seq)?.resolve({ p: msg.p, us: msg.us });
      this.pending.delete(msg.seq);
    } else if (msg.type === "error" && msg.seq !== undefined) {
      this.pending.get(msg.seq)?.reject(new Error(msg.message));
      this.pending.delete(msg.seq);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/** The load step's answer, or its error, within the deadline. */
function request<T extends "loaded" | "warmed">(
  worker: Worker,
  msg: ToWorker,
  answer: T,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the model's thread did not answer '${answer}' within ${LOAD_TIMEOUT_MS / 1000} s`)),
      LOAD_TIMEOUT_MS,
    );
    const done = () => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
    };
    const onMessage = (reply: FromWorker) => {
      done();
      if (reply.type === answer) resolve(reply as Extract<FromWorker, { type: T }>);
      else reject(new Error(reply.type === "error" ? reply.message : `unexpected ${reply.type}`));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    // Handed over without a copy (a structured clone of a few MB would stall the opportunities for ms)
    // when the bytes own their whole buffer: they are cached before the model is opened, and not used after.
    const bytes = msg.type === "load" ? msg.bytes : undefined;
    const whole = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    worker.postMessage(msg, whole ? [bytes.buffer as ArrayBuffer] : []);
  });
}
