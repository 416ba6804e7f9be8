/**
 * Where an agent gets a model's bytes: its own cache beside its state file first (so a restart runs
 * the same model before it trades, even with the control plane away), else the control plane's model
 * store with the agent's own token. Bytes that do not hash to their id are never cached nor run.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelRefused, sha256Hex } from "./host";

export interface ModelSource {
  /** The model's bytes, verified against its sha256 id; ModelRefused when there are none. */
  get(id: string): Promise<Uint8Array>;
}

export interface HttpModelSourceOptions {
  /** The control plane, e.g. http://127.0.0.1:8765. */
  url: string;
  /** The agent's token (read again for each download). */
  token: () => string;
  /** Downloaded models are kept here as `<sha256>.onnx`. */
  cacheDir?: string;
  timeoutMs?: number;
}

const ID = /^[0-9a-f]{64}$/;

export function httpModelSource(opts: HttpModelSourceOptions): ModelSource {
  return {
    async get(id) {
      if (!ID.test(id)) throw new ModelRefused(`model id '${id}' is not a sha256 (64 hex digits)`);
      const cached = opts.cacheDir ? await readCached(opts.cacheDir, id) : undefined;
      if (cached) return cached;
      const bytes = await download(opts, id);
      const got = await sha256Hex(bytes);
      if (got !== id) {
        throw new ModelRefused(`model ${id.slice(0, 12)}: the store's bytes hash to ${got.slice(0, 12)}, not its id`);
      }
      if (opts.cacheDir) await writeCached(opts.cacheDir, id, bytes);
      return bytes;
    },
  };
}

async function download(opts: HttpModelSourceOptions, id: string): Promise<Uint8Array> {
  let res: Response;
  const url = `${opts.url.replace(/\/$/, "")}/api/models/${id}/model.onnx`;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${opts.token()}` },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new Error(`model ${id.slice(0, 12)}: no answer from ${url} (${(err as Error).message}; set --control-plane)`);
  }
  if (res.status === 404) throw new ModelRefused(`model ${id.slice(0, 12)} is not in the model store`);
  if (!res.ok) {
    const body = (await res.text()).slice(0, 300);
    throw new ModelRefused(`model ${id.slice(0, 12)}: the model store answered ${res.status} ${body}`);
  }
  return new Uint8Array(await res.arrayBuffer());
}

async function readCached(dir: string, id: string): Promise<Uint8Array | undefined> {
  const path = join(dir, `${id}.onnx`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  if ((await sha256Hex(bytes)) === id) return bytes;
  await rm(path, { force: true }); // damaged on disk: fetched again
  return undefined;
}

async function writeCached(dir: string, id: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${id}.${process.pid}.tmp`);
  await writeFile(tmp, bytes, { mode: 0o600, flush: true });
  await rename(tmp, join(dir, `${id}.onnx`));
}

/** Models from a directory of `<sha256>.onnx` or `<sha256>/model.onnx` (tests, air-gapped agents). */
export function dirModelSource(dir: string): ModelSource {
  return {
    async get(id) {
      if (!ID.test(id)) throw new ModelRefused(`model id '${id}' is not a sha256 (64 hex digits)`);
      for (const path of [join(dir, `${id}.onnx`), join(dir, id, "model.onnx")]) {
        let bytes: Uint8Array;
        try {
          bytes = await readFile(path);
        } catch {
          continue;
        }
        return bytes; // ModelHost.open checks the hash
      }
      throw new ModelRefused(`model ${id.slice(0, 12)} is not in ${dir}`);
    },
  };
}
