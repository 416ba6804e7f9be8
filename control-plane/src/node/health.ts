import { create, NodeStatusSchema, type NodeStatus } from "@mevlab/proto";

export interface NodeHealthOptions {
  /** The private node's JSON-RPC URL; credentials, path and query are used but never shown. */
  url?: string;
  /** An independent RPC whose processed slot is the reference for slot lag. */
  referenceUrl?: string;
  intervalMs?: number;
  timeoutMs?: number;
  onStatus: (status: NodeStatus) => void;
  log?: (line: string) => void;
}

/** A JSON-RPC error, or a transport failure, with what was called. */
export class RpcError extends Error {
  constructor(
    readonly method: string,
    message: string,
    readonly code?: number,
  ) {
    super(`${method}: ${message}`);
  }
}

/**
 * The URL as viewers see it (node status, `/api/metrics/summary`): scheme and host only. Providers put
 * the API key in the user, the path (`/v2/<key>`) or the query.
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(invalid URL)";
  }
}

let nextId = 1;

export async function rpc<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 2_000): Promise<T> {
  const u = new URL(url);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (u.username || u.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}`;
    u.username = "";
    u.password = "";
  }
  let res: Response;
  try {
    res = await fetch(u, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new RpcError(method, `unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: { result?: T; error?: { code?: number; message?: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new RpcError(method, `HTTP ${res.status}, not JSON: ${text.slice(0, 120)}`);
  }
  if (body.error) throw new RpcError(method, body.error.message ?? "error", body.error.code);
  if (!res.ok) throw new RpcError(method, `HTTP ${res.status}`);
  if (!("result" in body)) throw new RpcError(method, "answer has neither result nor error");
  return body.result as T;
}

interface EpochInfo {
  epoch: number;
  slotIndex: number;
  slotsInEpoch: number;
  absoluteSlot: number;
}

const toU64 = (v: unknown): bigint => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : 0n);

/** One poll of the node (and the reference, if any). Never throws: failures are in the status. */
export async function pollNode(url: string, referenceUrl?: string, timeoutMs = 2_000): Promise<NodeStatus> {
  const status = create(NodeStatusSchema, { ts: BigInt(Date.now()), url: displayUrl(url), configured: true });
  const errors: string[] = [];
  const settle = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      errors.push((err as Error).message);
      return undefined;
    }
  };
  const started = performance.now();
  const [processed, confirmed, finalized, health, version, epoch, reference] = await Promise.all([
    settle(rpc<number>(url, "getSlot", [{ commitment: "processed" }], timeoutMs)).then((s) => {
      status.rpcMs = Math.round((performance.now() - started) * 100) / 100;
      return s;
    }),
    settle(rpc<number>(url, "getSlot", [{ commitment: "confirmed" }], timeoutMs)),
    settle(rpc<number>(url, "getSlot", [{ commitment: "finalized" }], timeoutMs)),
    rpc<string>(url, "getHealth", [], timeoutMs).then(
      (h) => ({ ok: h === "ok", error: h === "ok" ? "" : `getHealth: ${String(h)}` }),
      (err: RpcError) => ({ ok: false, error: err.message, unreachable: err.code === undefined }),
    ),
    settle(rpc<{ "solana-core"?: string }>(url, "getVersion", [], timeoutMs)),
    settle(rpc<EpochInfo>(url, "getEpochInfo", [], timeoutMs)),
    referenceUrl ? settle(rpc<number>(referenceUrl, "getSlot", [{ commitment: "processed" }], timeoutMs)) : undefined,
  ]);
  status.slotProcessed = toU64(processed);
  status.slotConfirmed = toU64(confirmed);
  status.slotFinalized = toU64(finalized);
  status.healthy = health.ok;
  status.healthError = health.error || errors[0] || "";
  status.reachable =
    processed !== undefined || version !== undefined || !("unreachable" in health && health.unreachable);
  status.version = version?.["solana-core"] ?? "";
  if (epoch) {
    status.epoch = toU64(epoch.epoch);
    status.slotIndex = toU64(epoch.slotIndex);
    status.slotsInEpoch = toU64(epoch.slotsInEpoch);
  }
  if (reference !== undefined && processed !== undefined) {
    status.referenceSlot = toU64(reference);
    status.slotLag = BigInt(reference) - BigInt(processed);
  }
  return status;
}

/** Polls the node every intervalMs (one poll at a time) and reports each status. */
export class NodeHealth {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  latest: NodeStatus;

  constructor(private readonly opts: NodeHealthOptions) {
    this.latest = create(NodeStatusSchema, { configured: false, url: opts.url ? displayUrl(opts.url) : "" });
  }

  start(): void {
    if (!this.opts.url) return;
    const loop = async (): Promise<void> => {
      if (this.stopped) return;
      this.latest = await pollNode(this.opts.url!, this.opts.referenceUrl, this.opts.timeoutMs);
      if (this.stopped) return;
      this.opts.onStatus(this.latest);
      this.timer = setTimeout(() => void loop(), this.opts.intervalMs ?? 2_000);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
