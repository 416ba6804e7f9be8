import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort, startKafka, type KafkaBroker } from "@mevlab/cli";

export const ROOT = resolve(__dirname, "..", "..", "..");
export const CLI = join(ROOT, "cli", "dist", "src", "main.js");
export const VENV_BIN = join(ROOT, ".venv", "bin");

/** A running mevlab: control plane + both reference agents (+ JupyterLab when asked). */
export interface Stack {
  bus: "local" | "kafka";
  url: string;
  admin: { username: string; password: string };
  viewer: { username: string; password: string };
  labUrl?: string;
  dataDir: string;
  kafka?: KafkaBroker;
  /** Process ids, where the parts run as processes. */
  pids?: { controlPlane: number };
  stop(): Promise<void>;
}

const VIEWER = { username: "viewer", password: "viewer-password-1" };

/** Runs a mevlab sub-command to completion; throws with its output when it fails. */
export function mevlab(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const res = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  if (res.status !== 0) throw new Error(`mevlab ${args.join(" ")} failed (${res.status}): ${res.stderr}${res.stdout}`);
  return res.stdout;
}

/**
 * Mints an agent's credential into the data dir (where `mevlab agent --data-dir` looks for it), as an
 * admin does on the control plane's host before starting an agent.
 */
export function agentCredential(dataDir: string, module: "arbitrage" | "mev", agentId: string): string {
  mevlab(["agent-credential", "--agent-id", agentId, "--module", module, "--data-dir", dataDir]);
  return join(dataDir, "credentials", `${agentId}.json`);
}

/** Starts a long-running mevlab sub-command and resolves once a stdout line matches `ready`. */
export function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; lines: string[] }> {
  // MEVLAB_CPU_PROF_DIR: each mevlab process writes a V8 CPU profile there when it exits (for benchmarks).
  const prof = process.env.MEVLAB_CPU_PROF_DIR;
  const child = spawn(process.execPath, [...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []), CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`mevlab ${args.join(" ")} not ready in ${timeoutMs} ms:\n${lines.join("\n")}\n${stderr}`));
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mevlab ${args.join(" ")} exited (${code}):\n${lines.join("\n")}\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      if (ready.test(line)) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolvePromise({ child, lines });
      }
    });
  });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The embedded default through `mevlab up`: in-process bus, agents over the WS link, JupyterLab
 * when `lab` is set. The demo admin's password is read from what `up` prints.
 */
export async function embeddedStack(
  opts: { lab?: boolean; rate?: number; agentsPerModule?: number } = {},
): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-e2e-"));
  mevlab(["user", "add", VIEWER.username, "--role", "viewer", "--data-dir", dataDir], {
    MEVLAB_PASSWORD: VIEWER.password,
  });
  const port = await freePort();
  const labPort = await freePort();
  const args = [
    "up",
    "--data-dir",
    dataDir,
    "--port",
    String(port),
    "--lab-port",
    String(labPort),
    "--rate",
    String(opts.rate ?? 20),
    "--agents",
    String(opts.agentsPerModule ?? 1),
  ];
  if (!opts.lab) args.push("--no-lab");
  const { child, lines } = await startProcess(
    args,
    { KAFKA_BROKERS: "" },
    opts.lab ? /^mevlab is up/ : /^JupyterLab\s+not started/,
    120_000,
  );
  const url = `http://127.0.0.1:${port}`;
  const labLine = lines.find((l) => l.startsWith("JupyterLab"));
  // `up` creates the demo admin (there is only a viewer so far) and prints its password once.
  const demo = lines.map((l) => /^demo admin\s+(\S+) \/ (\S+)/.exec(l)).find(Boolean);
  if (!demo) throw new Error(`mevlab up printed no demo admin login:\n${lines.join("\n")}`);
  return {
    bus: "local",
    url,
    admin: { username: demo[1], password: demo[2] },
    viewer: VIEWER,
    labUrl: opts.lab ? labLine?.split(/\s+/)[1] : undefined,
    dataDir,
    stop: () => stopProcess(child),
  };
}

/**
 * The extension's settings in the lab `up` started (the file `up` wrote; the lab reads it when a page
 * loads): the control plane's URL at least, e.g. a relay's, and the live stream's rows.
 */
export function writeLabSettings(stack: Stack, settings: { controlPlaneUrl: string; maxRows?: number }): void {
  const file = join(stack.dataDir, "lab", "user-settings", "@mevlab", "extension", "plugin.jupyterlab-settings");
  writeFileSync(file, JSON.stringify(settings, null, 2));
}

/**
 * The scale-out path: a real Kafka broker, `mevlab control-plane` and one `mevlab agent` per module,
 * each its own process talking to the broker.
 */
export async function kafkaStack(
  opts: { rate?: number; kafka?: KafkaBroker; agentsPerModule?: number } = {},
): Promise<Stack> {
  const kafka = opts.kafka ?? (await startKafka());
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-e2e-"));
  mevlab(["user", "add", VIEWER.username, "--role", "viewer", "--data-dir", dataDir], {
    MEVLAB_PASSWORD: VIEWER.password,
  });
  const admin = { username: "admin", password: "admin-password-1" };
  const env = { KAFKA_BROKERS: kafka.brokers, MEVLAB_BOOTSTRAP_ADMIN: `${admin.username}:${admin.password}` };
  const port = await freePort();
  const cp = await startProcess(
    ["control-plane", "--port", String(port), "--data-dir", dataDir],
    env,
    /^control plane listening/,
  );
  const ids = (["arbitrage", "mev"] as const).flatMap((m) =>
    Array.from({ length: opts.agentsPerModule ?? 1 }, (_, i) => [m, `${m}-${i + 1}`] as const),
  );
  for (const [m, id] of ids) agentCredential(dataDir, m, id);
  const agents = await Promise.all(
    ids.map(([m, id]) =>
      startProcess(
        [
          "agent",
          ...["--module", m, "--agent-id", id, "--rate", String(opts.rate ?? 20), "--data-dir", dataDir],
          // Where promoted models come from (the control plane's store).
          ...["--control-plane", `http://127.0.0.1:${port}`],
        ],
        env,
        /^agent .* ready/,
      ),
    ),
  );
  return {
    bus: "kafka",
    url: `http://127.0.0.1:${port}`,
    admin,
    viewer: VIEWER,
    dataDir,
    kafka,
    pids: { controlPlane: cp.child.pid! },
    stop: async () => {
      await Promise.all(agents.map((a) => stopProcess(a.child)));
      await stopProcess(cp.child);
      if (!opts.kafka) await kafka.stop();
    },
  };
}

/** Logs in to a control plane and returns the access token; throws with the answer on a refusal. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username} at ${url}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Finished Parquet parts under a table of a data dir's store. The table's directory appears before the
 * first part is renamed into place (the sink writes `.part-*.parquet.tmp` first): it alone says nothing.
 */
export function parquetParts(dataDir: string, table: string): string[] {
  const dir = join(dataDir, "events", table);
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true })
        .map(String)
        .filter((f) => /^part-.*\.parquet$/.test(basename(f)))
    : [];
}

/** Waits until every one of `ids` has sent a heartbeat the control plane has seen. */
export async function waitForAgents(
  client: { agents(): Promise<{ agents: { agent_id: string }[] }> },
  ids: readonly string[] = ["arbitrage-1", "mev-1"],
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    `heartbeats of ${ids.join(", ")}`,
    async () => {
      const seen = (await client.agents()).agents.map((a) => a.agent_id);
      return ids.every((id) => seen.includes(id)) ? true : undefined;
    },
    timeoutMs,
  );
}
