import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Subscription } from "@mevlab/kernel-helpers";
import { Module, Stream, TOPICS } from "@mevlab/proto";
import type { ControlPlaneConfig } from "./config";
import { shadowMessage } from "./policy/shadow";
import { bridgeBusToHub } from "./realtime/bridge";
import { webSocketUpgrades } from "./realtime/ws";
import type { Services } from "./services";

/** Stable per data dir, so a restarted control plane resumes its ack consumer where it stopped. */
function instanceId(dataDir: string): string {
  const file = join(dataDir, "instance-id");
  if (!existsSync(file)) writeFileSync(file, randomUUID().slice(0, 8), { mode: 0o600, flag: "wx" });
  return readFileSync(file, "utf8").trim();
}

/** The shadow comparison of each module that has a shadow candidate, on the `shadow` stream. */
function publishShadows(s: Services): void {
  for (const module of [Module.arbitrage, Module.mev]) {
    const candidate = s.policies.current(module).shadow?.modelId;
    if (!candidate) continue;
    const value = shadowMessage(s.shadow.view(Module[module], candidate));
    s.hub.publish(Stream.shadow, module, { case: "shadowComparison", value }, { coalesceKey: `shadow-${module}` });
  }
}

/**
 * The live flow around the HTTP API: the WebSocket upgrades (outside Fastify's router), and, once
 * the app is ready and before it listens, the event sink, the bus → hub bridge, the node poller and
 * the once-a-second summary stream. Each stops in an onClose hook; the sockets close first, before
 * the server waits for its connections.
 */
export function registerLive(app: FastifyInstance, config: ControlPlaneConfig, s: Services): void {
  const { handleUpgrade, closeSockets, closeRevoked } = webSocketUpgrades({
    tokens: s.tokens,
    hub: s.hub,
    bus: config.bus,
    deflate: config.wsDeflate,
    limits: config,
    log: config.log,
    onRefusedToken: (ip, path, reason) =>
      app.refusals.record({
        user: "anonymous",
        role: "anonymous",
        action: "auth.token",
        target: `GET ${path}`,
        reason,
        ip,
      }),
    onLinkRefused: (agentId, kind, reason) => {
      const n = s.rolling.linkRefused.note(agentId, kind);
      if (n !== undefined) config.log(`bus link: refused ${kind} from agent ${agentId} (${n} so far): ${reason}`);
    },
    sessionExpiry: (who) => (who.sid && !s.tokens.refused(who) ? s.sessions.accessExpiry(who.sid) : undefined),
  });
  s.revocation.onChange(() => closeRevoked((who) => s.tokens.refused(who)));
  app.server.on("upgrade", handleUpgrade);
  app.addHook("preClose", async () => closeSockets());

  let bridge: Subscription[] = [];
  let summaryTimer: NodeJS.Timeout | undefined;
  app.addHook("onReady", async () => {
    await s.sink?.start();
    bridge = await bridgeBusToHub({
      bus: config.bus,
      hub: s.hub,
      registry: s.registry,
      rolling: s.rolling,
      sink: s.sink,
      onAck: (ack) => {
        const ignored = s.tracker.onAck(ack);
        if (ignored === undefined) return;
        const n = s.rolling.skipped.note(TOPICS.controlAcks.name, ignored);
        if (n !== undefined) config.log(`ack of ${ack.agentId} for ${ack.requestId} ignored: ${ignored} (${n} so far)`);
      },
      onOpportunity: (module, o) => s.shadow.observe(module, o),
      agents: s.agents,
      instanceId: instanceId(config.dataDir),
      log: config.log,
    });
    s.node.start();
    // The summary card stream: once a second, to every subscriber of metrics_update.
    summaryTimer = setInterval(() => {
      const summary = { case: "metricsSummary" as const, value: s.rolling.summary() };
      s.hub.publish(Stream.metrics_update, Module.MODULE_UNSPECIFIED, summary, { coalesceKey: "summary" });
      publishShadows(s);
    }, 1_000);
  });
  app.addHook("onClose", async () => {
    clearInterval(summaryTimer);
    await Promise.all(bridge.map((b) => b.close()));
  });
}
