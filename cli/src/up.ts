import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { UserStore, mintAgentCredential } from "@mevlab/control-plane";
import { intOption, parseArgs } from "./args";
import { DEFAULT_PORT, dataDirOf, onShutdown, rateOption } from "./commands";
import { startLab } from "./lab";
import { Supervised } from "./supervise";

const MAIN = join(__dirname, "main.js");
const CONTROL_PLANE_START_MS = 60_000;

const say = (line: string): void => void process.stdout.write(line + "\n");

/**
 * What an agent is given of `up`'s environment: the process basics and the bus settings, not the
 * secrets meant for the control plane (MEVLAB_BOOTSTRAP_ADMIN, S3 or ClickHouse credentials).
 */
export function agentEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const basics = /^(PATH|HOME|USER|LANG|LC_[A-Z]+|TZ|TMPDIR|NODE_OPTIONS|NODE_EXTRA_CA_CERTS|KAFKA_[A-Z_]+)$/;
  return Object.fromEntries(Object.entries(env).filter(([name]) => basics.test(name)));
}

/** A mevlab sub-command as a child of `up`: Node flags given to `up` (--cpu-prof, heap limits) apply too. */
function mevlabChild(args: readonly string[], env: NodeJS.ProcessEnv) {
  return {
    command: process.execPath,
    args: [...process.execArgv, MAIN, ...args],
    env: { ...env, MEVLAB_EXIT_WITH_PARENT: "1" },
  };
}

/**
 * The embedded default: control plane on the in-process bus (or Kafka when KAFKA_BROKERS is set),
 * both reference agents, and JupyterLab with the extension pointed at the control plane. Each runs as
 * a child process that `up` watches: one that exits is reported with its last error lines, and the
 * control plane and the agents are restarted with a backoff.
 */
export async function runUp(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, {
    agents: "string",
    port: "string",
    "lab-port": "string",
    "data-dir": "string",
    "no-lab": "boolean",
    rate: "string",
  });
  const dataDir = dataDirOf(o["data-dir"]);
  const labPort = intOption(o["lab-port"], "lab-port", 8888);
  const rate = rateOption(o.rate);
  const perModule = intOption(o.agents, "agents", 1);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const children: Supervised[] = [];
  onShutdown(() => stopAll(children));
  // However `up` ends (an error nothing handled exits at once): its children run in process groups
  // of their own, and JupyterLab does not watch its stdin as the mevlab children do.
  process.on("exit", () => {
    for (const c of children) c.signalGroup("SIGTERM");
  });

  // Before the control plane starts: it reads the users file once, at start.
  const usersLine = await ensureAdmin(dataDir);
  const cp = await startControlPlane(
    intOption(o.port, "port", DEFAULT_PORT),
    dataDir,
    [`http://127.0.0.1:${labPort}`, `http://localhost:${labPort}`],
    children,
  );
  say(`control plane  ${cp.url}  (bus: ${cp.bus}, data: ${dataDir}, pid ${cp.pid})`);
  say(usersLine);

  for (const module of ["arbitrage", "mev"] as const) {
    for (let i = 1; i <= perModule; i++) {
      const agentId = `${module}-${i}`;
      // Each agent gets a credential of its own (its id, its module, the signing keys' public halves).
      const { path } = await mintAgentCredential({ dataDir, agentId, module });
      const args = ["agent", "--module", module, "--agent-id", agentId, "--control-plane", cp.url];
      const agent = new Supervised({
        name: `agent ${agentId}`,
        ...mevlabChild([...args, "--data-dir", dataDir, "--rate", String(rate)], {
          ...agentEnvironment(process.env),
          MEVLAB_AGENT_TOKEN_FILE: path,
        }),
        restart: true,
        stderrPrefix: "",
      });
      children.push(agent);
      say(`agent          ${agentId} (pid ${agent.pid})`);
    }
  }

  if (o["no-lab"] === true) {
    say("JupyterLab     not started (--no-lab)");
    return;
  }
  const { url, lab } = await startLab(cp.url, labPort, dataDir);
  children.push(lab);
  say(`JupyterLab     ${url}`);
  say("mevlab is up. Open the JupyterLab URL, then the mevlab panel from the Launcher. Ctrl-C stops everything.");
}

/** The line `up` prints about the login; creates and shows the demo admin while there is no admin. */
async function ensureAdmin(dataDir: string): Promise<string> {
  const path = join(dataDir, "users.json");
  const users = new UserStore(path);
  if (users.hasAdmin()) return `users          ${users.count} in ${path} (log in with an existing admin)`;
  if (process.env.MEVLAB_BOOTSTRAP_ADMIN)
    return `users          the admin of MEVLAB_BOOTSTRAP_ADMIN, created in ${path}`;
  const password = randomBytes(12).toString("base64url");
  await users.add("admin", password, "admin");
  return `demo admin     admin / ${password}   (shown once; stored as an argon2id hash in ${path})`;
}

/**
 * `mevlab control-plane` as a watched child; resolves once it listens. If its first run ends before
 * that, `up` fails with its error; later exits are restarted.
 */
function startControlPlane(
  port: number,
  dataDir: string,
  corsOrigins: readonly string[],
  children: Supervised[],
): Promise<{ url: string; bus: string; pid: number }> {
  return new Promise((resolve, reject) => {
    let ready = false;
    const args = [
      "control-plane",
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      "--cors-origin",
      corsOrigins.join(","),
    ];
    const cp = new Supervised({
      name: "control plane",
      // A console for people: warnings and errors. A line per request cost the control plane about
      // 0.1 ms of CPU a command and `up` about 0.25 ms to pass it on (CPU profiles of bench:control).
      ...mevlabChild(args, { ...process.env, MEVLAB_LOG_LEVEL: process.env.MEVLAB_LOG_LEVEL ?? "warn" }),
      restart: () => ready,
      stderrPrefix: "control-plane: ",
      onStdoutLine: (line, pid) => {
        const m = /^control plane listening on (\S+) \(bus: (\w+)\)/.exec(line);
        if (!m) return;
        if (ready) return say(`mevlab: control plane back on ${m[1]} (pid ${pid})`);
        ready = true;
        clearTimeout(timer);
        resolve({ url: m[1], bus: m[2], pid });
      },
      onExit: (how) => {
        if (ready) return;
        clearTimeout(timer);
        reject(new Error(`the control plane did not start (${how}):\n${cp.lastLines()}`));
      },
    });
    children.push(cp);
    const timer = setTimeout(
      () => reject(new Error(`the control plane did not listen within ${CONTROL_PLANE_START_MS / 1000} s`)),
      CONTROL_PLANE_START_MS,
    );
  });
}

/** JupyterLab and the agents first, then the control plane, so that no agent sees it go. */
async function stopAll(children: readonly Supervised[]): Promise<void> {
  const [cp, ...rest] = children;
  await Promise.all(rest.map((c) => c.stop()));
  await cp?.stop();
}
