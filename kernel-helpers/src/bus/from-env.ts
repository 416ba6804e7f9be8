import { KafkaBus } from "./kafka";
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
    const bus = new KafkaBus({ brokers, clientId: opts.clientId, log: opts.log });
    await bus.connect();
    return bus;
  }
  const url = opts.controlPlaneUrl.replace(/^http/, "ws").replace(/\/$/, "") + "/api/bus/ws";
  return new LinkBus({ url, token: opts.token, onStateChange: opts.onLinkState });
}
