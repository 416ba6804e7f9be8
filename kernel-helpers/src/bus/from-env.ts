import { readFileSync } from "node:fs";
import { KafkaBus, type KafkaSecurity } from "./kafka";
import { LinkBus } from "./link";
import type { Bus } from "./bus";

/** Brokers from `KAFKA_BROKERS` (comma separated), or undefined for the embedded default. */
export function kafkaBrokersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const raw = env.KAFKA_BROKERS?.trim();
  if (!raw) return undefined;
  return raw
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
}

const MECHANISMS = ["scram-sha-256", "scram-sha-512", "plain"] as const;

/**
 * SASL and TLS for Kafka from the environment (docs/configuration.md): `KAFKA_SASL_MECHANISM`
 * (scram-sha-256, scram-sha-512 or plain), `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` or
 * `KAFKA_SASL_PASSWORD_FILE`; `KAFKA_SSL=1`, `KAFKA_SSL_CA_FILE`, `KAFKA_SSL_CERT_FILE`,
 * `KAFKA_SSL_KEY_FILE`. Undefined when none is set; an incomplete setting is an error naming it.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity | undefined {
  const security: KafkaSecurity = {};
  const mechanism = env.KAFKA_SASL_MECHANISM?.trim().toLowerCase();
  if (mechanism) {
    const known = MECHANISMS.find((m) => m === mechanism);
    if (!known) throw new Error(`KAFKA_SASL_MECHANISM must be one of ${MECHANISMS.join(", ")}, got '${mechanism}'`);
    const username = env.KAFKA_SASL_USERNAME;
    const file = env.KAFKA_SASL_PASSWORD_FILE;
    const password = file ? readFileSync(file, "utf8").trim() : env.KAFKA_SASL_PASSWORD;
    if (!username || !password) {
      throw new Error("KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or _FILE)");
    }
    security.sasl = { mechanism: known, username, password };
  }
  const files = { ca: env.KAFKA_SSL_CA_FILE, cert: env.KAFKA_SSL_CERT_FILE, key: env.KAFKA_SSL_KEY_FILE };
  const anyFile = Object.values(files).some(Boolean);
  if (/^(1|true|yes)$/i.test(env.KAFKA_SSL ?? "") || anyFile) {
    security.ssl = anyFile
      ? Object.fromEntries(Object.entries(files).flatMap(([k, f]) => (f ? [[k, readFileSync(f, "utf8")]] : [])))
      : true;
  }
  return security.sasl || security.ssl ? security : undefined;
}

/**
 * The bus an agent uses: Kafka when `KAFKA_BROKERS` is set, else the control plane's in-process
 * bus reached over the WebSocket link (which needs an agent token).
 */
export async function agentBus(opts: {
  clientId: string;
  controlPlaneUrl: string;
  /** Read at every connection of the link: a renewed credential is picked up without a restart. */
  token: () => string;
  env?: NodeJS.ProcessEnv;
  onLinkState?: (connected: boolean, reason?: string) => void;
  log?: (line: string) => void;
}): Promise<Bus> {
  const brokers = kafkaBrokersFromEnv(opts.env);
  if (brokers) {
    const security = kafkaSecurityFromEnv(opts.env);
    const bus = new KafkaBus({ brokers, clientId: opts.clientId, log: opts.log, security });
    await bus.connect();
    return bus;
  }
  const url = opts.controlPlaneUrl.replace(/^http/, "ws").replace(/\/$/, "") + "/api/bus/ws";
  return new LinkBus({ url, token: opts.token, onStateChange: opts.onLinkState });
}
