import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startControlPlane } from "@mevlab/control-plane";
import { intOption, parseArgs } from "./args";
import { DEFAULT_PORT, controlPlaneBus, controlPlaneEnv, dataDirOf, onShutdown } from "./commands";

export const REPO_ROOT = resolve(__dirname, "..", "..", "..");
const MAIN = join(__dirname, "main.js");

const say = (line: string): void => void process.stdout.write(line + "\n");

/**
 * The embedded default: control plane on the in-process bus (or Kafka when KAFKA_BROKERS is set),
 * both reference agents, and JupyterLab with the extension pointed at the control plane.
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
  const bus = await controlPlaneBus();
  const cp = await startControlPlane({
    dataDir,
    bus,
    port: intOption(o.port, "port", DEFAULT_PORT),
    corsOrigins: [`http://127.0.0.1:${labPort}`, `http://localhost:${labPort}`],
    ...controlPlaneEnv(),
  });
  const children: ChildProcess[] = [];
  onShutdown(async () => {
    for (const c of children) c.kill("SIGTERM");
    await cp.close();
    await bus.close();
  });
  say(`control plane  ${cp.url}  (bus: ${bus.kind}, data: ${dataDir})`);
  if (!cp.users.hasAdmin()) {
    const password = randomBytes(12).toString("base64url");
    await cp.users.add("admin", password, "admin");
    say(
      `demo admin     admin / ${password}   (shown once; stored as an argon2id hash in ${join(dataDir, "users.json")})`,
    );
  } else {
    say(`users          ${cp.users.count} in ${join(dataDir, "users.json")} (log in with an existing admin)`);
  }

  const perModule = intOption(o.agents, "agents", 1);
  const agentIds = (["arbitrage", "mev"] as const).flatMap((m) =>
    Array.from({ length: perModule }, (_, i) => [m, `${m}-${i + 1}`] as const),
  );
  for (const [module, agentId] of agentIds) {
    const token = await cp.mintAgentToken(agentId);
    const child = spawn(
      process.execPath,
      [
        // Node flags given to `up` (--cpu-prof, heap limits) apply to its agents too.
        ...process.execArgv,
        MAIN,
        "agent",
        "--module",
        module,
        "--agent-id",
        agentId,
        "--control-plane",
        cp.url,
        "--data-dir",
        dataDir,
        "--rate",
        String(intOption(o.rate, "rate", 5)),
      ],
      { env: { ...process.env, MEVLAB_AGENT_TOKEN: token }, stdio: ["ignore", "ignore", "inherit"] },
    );
    children.push(child);
    say(`agent          ${agentId} (pid ${child.pid})`);
  }

  if (o["no-lab"] === true) {
    say("JupyterLab     not started (--no-lab)");
    return;
  }
  const lab = await startLab(cp.url, labPort, dataDir);
  children.push(lab.child);
  say(`JupyterLab     ${lab.url}`);
  say("mevlab is up. Open the JupyterLab URL, then the mevlab panel from the Launcher. Ctrl-C stops everything.");
}

async function startLab(
  controlPlaneUrl: string,
  port: number,
  dataDir: string,
): Promise<{ url: string; child: ChildProcess }> {
  const jupyter = process.env.MEVLAB_JUPYTER ?? join(REPO_ROOT, ".venv", "bin", "jupyter");
  if (!existsSync(jupyter))
    throw new Error(`JupyterLab not found at ${jupyter}: run ./bin/mevlab up, which sets it up`);
  const settingsDir = join(dataDir, "lab", "user-settings");
  const pluginDir = join(settingsDir, "@mevlab", "extension");
  mkdirSync(pluginDir, { recursive: true });
  writeFileSync(join(pluginDir, "plugin.jupyterlab-settings"), JSON.stringify({ controlPlaneUrl }, null, 2));
  // The workbench makes no requests to the internet: no news feed, no update check, no prompt about them.
  const notifications = join(settingsDir, "@jupyterlab", "apputils-extension");
  mkdirSync(notifications, { recursive: true });
  const notificationFile = join(notifications, "notification.jupyterlab-settings");
  if (!existsSync(notificationFile)) {
    writeFileSync(notificationFile, JSON.stringify({ fetchNews: "false", checkForUpdates: false }, null, 2));
  }
  const token = randomBytes(16).toString("hex");
  const child = spawn(
    jupyter,
    [
      "lab",
      "--no-browser",
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${port}`,
      "--ServerApp.port_retries=0",
      `--IdentityProvider.token=${token}`,
      `--LabApp.user_settings_dir=${settingsDir}`,
      // Open tabs are remembered per data dir, like the settings, not in the user's home.
      `--LabApp.workspaces_dir=${join(dataDir, "lab", "workspaces")}`,
      `--ServerApp.root_dir=${REPO_ROOT}`,
      // Jupyter refuses root without this; CI and containers run as root.
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
    ],
    {
      env: {
        ...process.env,
        MEVLAB_URL: controlPlaneUrl,
        // Notebooks read the store this control plane writes and export next to its dataset jobs.
        MEVLAB_DATA_DIR: process.env.MEVLAB_DATA_DIR ?? dataDir,
        MEVLAB_EXPORT_ROOTS: process.env.MEVLAB_EXPORT_ROOTS ?? join(dataDir, "exports"),
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`JupyterLab exited (${child.exitCode}):\n${stderr}`);
    const ok = await fetch(`${base}/api/status?token=${token}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url: `${base}/lab?token=${token}`, child };
    await new Promise((r) => setTimeout(r, 300));
  }
  child.kill("SIGKILL");
  throw new Error(`JupyterLab did not answer on ${base} within 60 s:\n${stderr}`);
}
