import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Supervised } from "./supervise";

export const REPO_ROOT = resolve(__dirname, "..", "..", "..");

/** Writes the lab's user settings under the data dir: the extension's control-plane URL, no news feed. */
function writeLabSettings(controlPlaneUrl: string, settingsDir: string): void {
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
}

/**
 * JupyterLab with the extension pointed at the control plane, as a watched child of `up` (reported
 * when it exits, not restarted). Resolves once it answers.
 */
export async function startLab(
  controlPlaneUrl: string,
  port: number,
  dataDir: string,
): Promise<{ url: string; lab: Supervised }> {
  const jupyter = process.env.MEVLAB_JUPYTER ?? join(REPO_ROOT, ".venv", "bin", "jupyter");
  if (!existsSync(jupyter))
    throw new Error(`JupyterLab not found at ${jupyter}: run ./bin/mevlab up, which sets it up`);
  const settingsDir = join(dataDir, "lab", "user-settings");
  writeLabSettings(controlPlaneUrl, settingsDir);
  const token = randomBytes(16).toString("hex");
  const lab = new Supervised({
    name: "JupyterLab",
    command: jupyter,
    args: [
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
    env: {
      // Notebooks log in as users do: the bootstrap admin's password is the control plane's alone.
      ...withoutSecrets(process.env),
      MEVLAB_URL: controlPlaneUrl,
      // Notebooks read the store this control plane writes and export next to its dataset jobs.
      MEVLAB_DATA_DIR: process.env.MEVLAB_DATA_DIR ?? dataDir,
      MEVLAB_EXPORT_ROOTS: process.env.MEVLAB_EXPORT_ROOTS ?? join(dataDir, "exports"),
    },
    restart: false,
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (!lab.alive) throw new Error(`JupyterLab exited:\n${lab.lastLines()}`);
    const ok = await fetch(`${base}/api/status?token=${token}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { url: `${base}/lab?token=${token}`, lab };
    await new Promise((r) => setTimeout(r, 300));
  }
  await lab.stop();
  throw new Error(`JupyterLab did not answer on ${base} within 60 s:\n${lab.lastLines()}`);
}

/** `up`'s environment less what is meant for the control plane only. */
function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = new Set(["MEVLAB_BOOTSTRAP_ADMIN", "MEVLAB_PASSWORD", "MEVLAB_AGENT_TOKEN_FILE"]);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !secret.has(name)));
}
