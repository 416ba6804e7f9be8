// The floor of the local control loop: the same processes and messages as `mevlab up` with two agents
// per module, and nothing else. A client POSTs (undici, keep-alive, as the helper library does) to
// a server that answers 202, relays the body over a WebSocket to two agent processes, and once both
// have answered pushes one frame to the client's WebSocket. No auth, no validation, no journal, no
// protobuf: what is left is processes waking each other up on this machine.
// `node e2e/dist/src/bench/floor.js [--n 1000]` prints p50/p99; bench:control runs it too.
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { nodeFetch } from "@mevlab/kernel-helpers";

const AGENTS = 2;

/** The server: POST /cmd → 202, then the body to every agent; the answers of all → one client frame. */
function serve(): void {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const agents: WebSocket[] = [];
  let client: WebSocket | undefined;
  const waiting = new Map<string, number>();
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (req.url === "/agent") {
        agents.push(ws);
        ws.on("message", (data: Buffer) => {
          const id = data.toString();
          const left = (waiting.get(id) ?? 0) - 1;
          if (left > 0) waiting.set(id, left);
          else {
            waiting.delete(id);
            client?.send(id);
          }
        });
      } else client = ws;
    });
  });
  let next = 0;
  server.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = String(++next);
      waiting.set(id, agents.length);
      for (const a of agents) a.send(id);
      const body = JSON.stringify({ ok: true, request_id: id, size: Buffer.concat(chunks).length });
      res.writeHead(202, { "content-type": "application/json" }).end(body);
    });
  });
  server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
}

function agent(port: number): void {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/agent`, { perMessageDeflate: false });
  ws.on("message", (data: Buffer) => ws.send(data.toString()));
  ws.on("open", () => process.send?.("ready"));
}

function started(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`floor process exited (${code})`)));
  });
}

/** CPU time (user + system) of a process so far, in ms; undefined where /proc cannot tell. */
export function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100;

export interface FloorResult {
  samples: number[];
  /** CPU per command of each process over the measured commands (ms). */
  cpuPerCommandMs: { server?: number; agent?: number; client: number };
}

/** Runs the floor: server and agents as child processes, the client here. Sample latencies in ms. */
export async function localFloor(n: number, warmupMs: number): Promise<FloorResult> {
  const server = fork(__filename, ["--role", "server"], { stdio: "ignore" });
  const children = [server];
  try {
    const port = (await started(server)) as number;
    for (let i = 0; i < AGENTS; i++) {
      const a = fork(__filename, ["--role", "agent", String(port)], { stdio: "ignore" });
      children.push(a);
      await started(a);
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/client`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const done = new Map<string, () => void>();
    const early = new Set<string>();
    ws.on("message", (data: Buffer) => {
      const id = data.toString();
      const resolve = done.get(id);
      if (resolve) {
        done.delete(id);
        resolve();
      } else early.add(id);
    });
    const url = `http://127.0.0.1:${port}/cmd`;
    const body = JSON.stringify({ throttle_pct: 40 });
    const one = async (): Promise<number> => {
      const t0 = performance.now();
      const res = await nodeFetch(url, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", authorization: "Bearer x" },
      });
      const { request_id: id } = JSON.parse(await res.text()) as { request_id: string };
      if (!early.delete(id)) await new Promise<void>((resolve) => done.set(id, resolve));
      return performance.now() - t0;
    };
    const warm = performance.now();
    while (performance.now() - warm < warmupMs) await one();
    const before = children.map((c) => cpuMs(c.pid!));
    const self = process.cpuUsage();
    const samples: number[] = [];
    for (let i = 0; i < n; i++) samples.push(await one());
    const own = process.cpuUsage(self);
    const used = children.map((c, i) => {
      const [a, b] = [before[i], cpuMs(c.pid!)];
      return a === undefined || b === undefined ? undefined : (b - a) / n;
    });
    ws.close();
    return {
      samples,
      cpuPerCommandMs: { server: used[0], agent: used[1], client: (own.user + own.system) / 1000 / n },
    };
  } finally {
    for (const c of children) c.kill();
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const role = args[args.indexOf("--role") + 1];
  if (args.includes("--role") && role === "server") serve();
  else if (args.includes("--role") && role === "agent") agent(Number(args[args.indexOf("--role") + 2]));
  else {
    const nIdx = args.indexOf("--n");
    const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 1000;
    void localFloor(n, 3_000).then(({ samples, cpuPerCommandMs }) => {
      const s = [...samples].sort((a, b) => a - b);
      const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 1000) / 1000;
      process.stdout.write(
        JSON.stringify({ bench: "control-floor", p50: at(50), p99: at(99), n, cpu_per_command_ms: cpuPerCommandMs }) +
          "\n",
      );
    });
  }
}
