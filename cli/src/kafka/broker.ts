import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { mavenJars } from "../maven";

export const KAFKA_VERSION = "4.1.0";
const POM = resolve(__dirname, "..", "..", "..", "kafka", "pom.xml");

export interface KafkaBroker {
  brokers: string;
  port: number;
  dir: string;
  /** Stops the broker (SIGTERM, then SIGKILL after 20 s). Its data stays in `dir` for a restart. */
  stop(): Promise<void>;
  /** Kills the broker at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
}

export interface KafkaOptions {
  /** Data and config folder; a fresh temporary one by default. */
  dir?: string;
  port?: number;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  /**
   * Clients must authenticate with SASL/SCRAM-SHA-256 as this user (the broker's own inter-broker
   * login too); no anonymous client is served. The controller listener stays on loopback, plain.
   */
  scram?: { username: string; password: string };
}

/** Jars of the Kafka broker from Maven Central, resolved once into the cache. */
export function kafkaJars(log: (line: string) => void = () => undefined): string {
  return mavenJars({ name: "kafka", version: KAFKA_VERSION, pom: POM, jarPrefix: "kafka_2.13-", log });
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Heap as before; the GC settings are the ones Kafka's own start script uses
 * (KAFKA_JVM_PERFORMANCE_OPTS): G1 aiming at 20 ms pauses.
 */
const JVM_OPTS = [
  "-Xms128m",
  "-Xmx768m",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-XX:InitiatingHeapOccupancyPercent=35",
  "-XX:+ExplicitGCInvokesConcurrent",
  "-Djava.awt.headless=true",
];

/** The client listener's settings: plain, or SASL/SCRAM-SHA-256 with the broker's own login. */
function listener(port: number, scram: KafkaOptions["scram"]): string[] {
  if (!scram) {
    return [
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    ];
  }
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username=${JSON.stringify(scram.username)} password=${JSON.stringify(scram.password)};`;
  return [
    `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=SASL_PLAINTEXT",
    "sasl.enabled.mechanisms=SCRAM-SHA-256",
    "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256",
    `listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=${jaas}`,
  ];
}

function properties(dir: string, port: number, controllerPort: number, scram: KafkaOptions["scram"]): string {
  const protocol = scram ? "SASL_PLAINTEXT" : "PLAINTEXT";
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${protocol}://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    ...listener(port, scram),
    "controller.listener.names=CONTROLLER",
    `log.dirs=${join(dir, "data")}`,
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=4",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "auto.create.topics.enable=false",
    "num.partitions=1",
    "",
  ].join("\n");
}

/** Kafka's textual cluster id: 16 random bytes, base64url without padding, never starting with '-' (a CLI flag). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/**
 * Starts a real single-node KRaft broker from Maven Central jars on a free loopback port and waits
 * until it answers metadata requests.
 */
export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaBroker> {
  const log = opts.log ?? (() => undefined);
  const jars = kafkaJars(log);
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "mevlab-kafka-"));
  mkdirSync(dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const controllerPort = await freePort();
  const config = join(dir, "server.properties");
  writeFileSync(config, properties(dir, port, controllerPort, opts.scram), { mode: 0o600 });
  const classpath = join(jars, "*");
  if (!existsSync(join(dir, "data", "meta.properties"))) {
    const fmt = spawnSync(
      "java",
      [
        ...["-cp", classpath, "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", config, "--standalone"],
        ...(opts.scram
          ? ["--add-scram", `SCRAM-SHA-256=[name=${opts.scram.username},password=${opts.scram.password}]`]
          : []),
      ],
      { encoding: "utf8" },
    );
    if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr || fmt.stdout}`);
  }
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const out = createWriteStream(join(dir, "broker.log"), { flags: "a" });
    child = spawn("java", [...JVM_OPTS, "-cp", classpath, "kafka.Kafka", config], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    await waitReady(`127.0.0.1:${port}`, child, opts.readyTimeoutMs ?? 90_000, dir, opts.scram);
    log(`kafka ${KAFKA_VERSION} ready on 127.0.0.1:${port} (data in ${dir})`);
  };
  const exit = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((res) => c.once("exit", () => res()));
    c.kill(signal);
    const timer = setTimeout(() => c.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    dir,
    stop: () => exit("SIGTERM", 20_000),
    kill: () => exit("SIGKILL", 0),
    restart: launch,
  };
}

async function waitReady(
  brokers: string,
  child: ChildProcess,
  timeoutMs: number,
  dir: string,
  scram: KafkaOptions["scram"],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({
    clientId: "mevlab-ready",
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    ...(scram ? { sasl: { mechanism: "scram-sha-256" as const, ...scram } } : {}),
  });
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`kafka exited with ${child.exitCode}; see ${join(dir, "broker.log")}`);
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      return;
    } catch {
      await admin.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`kafka not ready after ${timeoutMs} ms; see ${join(dir, "broker.log")}`);
}
