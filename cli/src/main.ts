#!/usr/bin/env node
import { MAX_SIMULATED_RATE } from "@mevlab/agents";
import { runAudit } from "./audit";
import { runAgent, runControlPlane, runKafka, shutdown } from "./commands";
import { runAgentCredential, runJwtKey, runSigningKey } from "./credentials";
import { runUp } from "./up";
import { runUser } from "./users";
import { patchKafkajsIdleTimer } from "@mevlab/kernel-helpers";

const USAGE = `usage: mevlab <command> [options]

  up              control plane (embedded bus) + both reference agents + JupyterLab
                  [--port 8765] [--lab-port 8888] [--data-dir .mevlab] [--rate 5] [--agents 1] [--no-lab]
                  watches them: one that exits is reported, and restarted (not JupyterLab)
  control-plane   the control plane alone; Kafka when KAFKA_BROKERS is set
                  [--port 8765] [--data-dir .mevlab] [--cors-origin URL[,URL]]
  agent           a reference agent: --module arbitrage|mev [--agent-id ID] [--rate N (at most ${MAX_SIMULATED_RATE})]
                  [--control-plane URL] [--data-dir D] [--start-stopped] [--state-file F]
                  [--bus-silence-stop SECONDS]  (stop new work when the bus is silent that long)
  kafka           a development Kafka broker (KRaft, jars from Maven Central) [--port N] [--dir D]
                  [--scram]  (SASL/SCRAM-SHA-256 only, as the KAFKA_SASL_* user clients use too)
  user add NAME   add a user [--role admin|viewer] [--data-dir D]; password from MEVLAB_PASSWORD
  user list | passwd NAME | disable NAME | enable NAME | remove NAME
                  a change reaches a running control plane at once: the user's tokens and sockets are cut
  audit verify    check the audit log's chain and HMACs and, with an anchor, that its tail is whole
                  [--data-dir D] [--anchor FILE (default MEVLAB_AUDIT_ANCHOR)]; exit status 1 on a problem
  agent-credential  mint or renew an agent's credential file (0600): --agent-id ID --module M
                  [--ttl-days 30] [--out FILE] [--data-dir D]; the agent reads MEVLAB_AGENT_TOKEN_FILE
                  (default <data dir>/credentials/<agent id>.json)
  agent-credential revoke --agent-id ID  refuse every credential of that agent minted so far [--data-dir D]
  signing-key rotate  a new Ed25519 key signs commands and policies [--data-dir D]
  jwt-key rotate | list  a new key signs access tokens from the control plane's next start; the old
                  ones keep verifying (nobody is logged out) [--data-dir D]
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "up":
      return runUp(rest);
    case "control-plane":
      patchKafkajsIdleTimer();
      return void (await runControlPlane(rest));
    case "agent":
      patchKafkajsIdleTimer();
      return void (await runAgent(rest));
    case "kafka":
      return runKafka(rest);
    case "user":
      return runUser(rest);
    case "audit":
      process.exitCode = await runAudit(rest);
      return;
    case "agent-credential":
      return runAgentCredential(rest);
    case "signing-key":
      return runSigningKey(rest);
    case "jwt-key":
      return runJwtKey(rest);
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      return;
    default:
      throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}

/**
 * A child of `mevlab up` (MEVLAB_EXIT_WITH_PARENT=1) ends when `up` is gone, however `up` ended:
 * its stdin is a pipe from `up`, which closes then.
 */
function exitWithParent(): void {
  if (process.env.MEVLAB_EXIT_WITH_PARENT !== "1") return;
  process.stdin.on("error", (err) => process.stderr.write(`mevlab: stdin from mevlab up: ${err.message}\n`));
  process.stdin.on("end", () => {
    process.stderr.write("mevlab: mevlab up is gone: shutting down\n");
    void shutdown(0);
  });
  process.stdin.resume();
}

/**
 * Last line of defence, not a mend (every socket and stream has its own error handler): an error
 * nothing handled is logged and the process exits non-zero at once; `mevlab up` restarts it.
 */
process.on("uncaughtException", (err) => {
  process.stderr.write(`mevlab: uncaught error, exiting: ${err.stack ?? String(err)}\n`);
  process.exit(70);
});

exitWithParent();
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`mevlab: ${err instanceof Error ? err.message : String(err)}\n`);
  // Whatever was started before the failure (agents, the control plane) is stopped too.
  void shutdown(1);
});
