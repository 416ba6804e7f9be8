import { join, resolve } from "node:path";
import {
  BusError,
  KafkaBus,
  LocalBus,
  agentBus,
  kafkaBrokersFromEnv,
  kafkaSecurityFromEnv,
  type Bus,
} from "@mevlab/kernel-helpers";
import {
  defaultCredentialPath,
  readAgentCredential,
  settingsFromEnv,
  startControlPlane,
  type ControlPlane,
} from "@mevlab/control-plane";
import { Agent, MAX_SIMULATED_RATE, httpModelSource } from "@mevlab/agents";
import { intOption, parseArgs } from "./args";
import { startKafka } from "./kafka/broker";

export const DEFAULT_PORT = 8765;

export function dataDirOf(v: string | boolean | undefined): string {
  return resolve(typeof v === "string" ? v : (process.env.MEVLAB_DATA_DIR ?? ".mevlab"));
}

const say = (line: string): void => void process.stdout.write(line + "\n");
const warn = (line: string): void => void process.stderr.write(line + "\n");

/** The bus of the control plane: Kafka when KAFKA_BROKERS is set, else in-process. */
export async function controlPlaneBus(): Promise<Bus> {
  const brokers = kafkaBrokersFromEnv();
  if (!brokers) return new LocalBus();
  const bus = new KafkaBus({ brokers, clientId: "mevlab-control-plane", log: warn, security: kafkaSecurityFromEnv() });
  await bus.connect();
  return bus;
}

export async function runControlPlane(argv: readonly string[]): Promise<ControlPlane> {
  const o = parseArgs(argv, { port: "string", "data-dir": "string", host: "string", "cors-origin": "string" });
  const bus = await controlPlaneBus();
  const env = settingsFromEnv();
  const cp = await startControlPlane({
    ...env,
    dataDir: dataDirOf(o["data-dir"]),
    bus,
    port: intOption(o.port, "port", DEFAULT_PORT),
    host: typeof o.host === "string" ? o.host : "127.0.0.1",
    corsOrigins: typeof o["cors-origin"] === "string" ? o["cors-origin"].split(",") : env.corsOrigins,
    log: warn,
  });
  say(`control plane listening on ${cp.url} (bus: ${bus.kind})`);
  onShutdown(async () => {
    await cp.close();
    await bus.close();
  });
  return cp;
}

export async function runAgent(argv: readonly string[]): Promise<Agent> {
  const o = parseArgs(argv, {
    module: "string",
    "agent-id": "string",
    rate: "string",
    "control-plane": "string",
    "data-dir": "string",
    "start-stopped": "boolean",
    seed: "string",
    "state-file": "string",
    "bus-silence-stop": "string",
  });
  const module = o.module;
  if (module !== "arbitrage" && module !== "mev") throw new Error("--module must be arbitrage or mev");
  const rate = rateOption(o.rate);
  const agentId = typeof o["agent-id"] === "string" ? o["agent-id"] : `${module}-1`;
  const url =
    typeof o["control-plane"] === "string"
      ? o["control-plane"]
      : (process.env.MEVLAB_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`);
  const dataDir = dataDirOf(o["data-dir"]);
  // The agent's own credential (never the control plane's keys): its link token and the public keys
  // that verify commands and policies. Read again at every link connection, so a renewal needs no restart.
  const credentialFile = process.env.MEVLAB_AGENT_TOKEN_FILE || defaultCredentialPath(dataDir, agentId);
  const credential = () => readAgentCredential(credentialFile, { agentId, module });
  const { signing_keys: trust, agent_key: agentKey } = credential();
  const bus = await agentBusFor(agentId, url, () => credential().token);
  const silence = o["bus-silence-stop"];
  const agent = new Agent({
    module,
    agentId,
    trust,
    agentKey: Buffer.from(agentKey, "base64url"),
    bus,
    rate,
    startStopped: o["start-stopped"] === true,
    seed: o.seed === undefined ? undefined : intOption(o.seed, "seed", 0),
    stateFile:
      typeof o["state-file"] === "string" ? resolve(o["state-file"]) : join(dataDir, "agents", `${agentId}.json`),
    busSilenceStopMs: silence === undefined ? undefined : intOption(silence, "bus-silence-stop", 0) * 1000,
    // Promoted models: downloaded from the control plane's store with the agent's own token, kept
    // beside its state file so that a restart runs the same model before it trades.
    models: httpModelSource({
      url,
      token: () => credential().token,
      cacheDir: join(dataDir, "agents", `${agentId}.models`),
    }),
    log: warn,
  });
  await startWithRetry(() => agent.start(), `agent ${agentId}`);
  say(`agent ${agentId} ready`);
  onShutdown(async () => {
    await agent.stop();
    await bus.close();
  });
  return agent;
}

/** `--rate`: simulated opportunities per second per agent, 5 by default, at most MAX_SIMULATED_RATE. */
export function rateOption(v: string | boolean | undefined): number {
  const rate = intOption(v, "rate", 5);
  if (rate > MAX_SIMULATED_RATE)
    throw new Error(`--rate must be at most ${MAX_SIMULATED_RATE} opportunities per second per agent, got ${rate}`);
  return rate;
}

function agentBusFor(agentId: string, url: string, token: () => string): Promise<Bus> {
  return agentBus({
    clientId: `mevlab-agent-${agentId}`,
    controlPlaneUrl: url,
    token,
    onLinkState: (up, reason) => warn(`agent ${agentId}: bus link ${up ? "up" : `down (${reason ?? ""})`}`),
    log: warn,
  });
}

/** Retries a start that fails on a retriable bus error (the control plane is still starting). */
async function startWithRetry(start: () => Promise<void>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 200; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof BusError) || !err.retriable || Date.now() > deadline) throw err;
      warn(`${what}: ${err.message}; retrying in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function runKafka(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, { port: "string", dir: "string", scram: "boolean" });
  const security = o.scram === true ? kafkaSecurityFromEnv() : undefined;
  if (o.scram === true && security?.sasl?.mechanism !== "scram-sha-256") {
    throw new Error(
      "--scram takes its user from KAFKA_SASL_MECHANISM=scram-sha-256, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD",
    );
  }
  const broker = await startKafka({
    port: o.port === undefined ? undefined : intOption(o.port, "port", 9092),
    dir: typeof o.dir === "string" ? resolve(o.dir) : undefined,
    log: warn,
    scram: security?.sasl,
  });
  say(`KAFKA_BROKERS=${broker.brokers}`);
  onShutdown(() => broker.stop());
}

const shutdownHooks: (() => Promise<void>)[] = [];
let shuttingDown = false;

/** Runs the shutdown hooks once, newest first, then exits with `code`. */
export async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    for (const hook of shutdownHooks.reverse()) await hook().catch((err: unknown) => warn(`shutdown: ${String(err)}`));
  }
  process.exit(code);
}

export function onShutdown(hook: () => Promise<void>): void {
  if (shutdownHooks.length === 0) {
    const handler = (signal: NodeJS.Signals): void => {
      warn(`${signal}: shutting down`);
      void shutdown(0);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
    // The terminal closed: what `up` started runs in process groups of its own and must stop too.
    process.on("SIGHUP", handler);
  }
  shutdownHooks.push(hook);
}
