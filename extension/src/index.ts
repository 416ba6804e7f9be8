import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from "@jupyterlab/apputils";
import { ILauncher } from "@jupyterlab/launcher";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { IStatusBar } from "@jupyterlab/statusbar";
import type { ReadonlyPartialJSONObject } from "@lumino/coreutils";
import { AuditPanel } from "./audit";
import { MevlabConnection } from "./connection";
import { killAllConfirmed } from "./kill-all";
import { launchedPanel, openOnce } from "./launched-panel";
import { logIn } from "./login";
import { DatasetsPanel } from "./datasets";
import { metricsPlugin } from "./metrics-plugin";
import { MevlabPanel } from "./panel";
import { OPEN_IN_NOTEBOOK, openInNotebookPlugin } from "./open-in-notebook";
import { PolicyPanel } from "./policy";
import { SessionStatusItem } from "./status-item";
import { TrainingPanel } from "./training";
import { IMevlabConnection } from "./tokens";

const PLUGIN_ID = "@mevlab/extension:plugin";
const OPEN = "mevlab:open";
const KILL_ALL = "mevlab:kill-all";
const OPEN_DATASETS = "mevlab:datasets";
const OPEN_TRAINING = "mevlab:training";
const OPEN_POLICY = "mevlab:policy";
const OPEN_AUDIT = "mevlab:audit";

interface Settings {
  controlPlaneUrl: string;
  maxRows: number;
  /** The live stream's filters when it opens (applied by the control plane). */
  defaultDexes: string[];
  defaultMinNetSol: number | null;
}

const defaults: Settings = {
  controlPlaneUrl: "http://127.0.0.1:8765",
  maxRows: 100_000,
  defaultDexes: [],
  defaultMinNetSol: null,
};

/** Core plugin: the settings and the connection that every mevlab panel shares. */
const connectionPlugin: JupyterFrontEndPlugin<IMevlabConnection> = {
  id: PLUGIN_ID,
  description: "Connection to the mevlab control plane.",
  autoStart: true,
  requires: [ISettingRegistry],
  optional: [IStatusBar],
  provides: IMevlabConnection,
  activate: async (
    _app: JupyterFrontEnd,
    registry: ISettingRegistry,
    statusBar: IStatusBar | null,
  ): Promise<IMevlabConnection> => {
    const settings = await registry.load(PLUGIN_ID);
    const url = () => read(settings).controlPlaneUrl;
    const conn = new MevlabConnection(url);
    // A session that ended on its own asks at once; the panels keep their state meanwhile.
    conn.expired.connect(() => void logIn(conn, url()));
    statusBar?.registerStatusItem("@mevlab/extension:session", {
      item: new SessionStatusItem(conn, url),
      align: "left",
      rank: 10,
    });
    // Only another control plane ends the session: changing the rows kept must not log anyone out.
    let current = url();
    settings.changed.connect(() => {
      const next = url();
      if (next === current) return;
      current = next;
      conn.logout();
    });
    return conn;
  },
};

function read(settings: ISettingRegistry.ISettings): Settings {
  return { ...defaults, ...(settings.composite as Partial<Settings>) };
}

/** The control + live panel, opened from the launcher or the palette. */
const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: "@mevlab/extension:control-panel",
  description: "Control and live stream panel for the arbitrage and MEV agents.",
  autoStart: true,
  requires: [IMevlabConnection, ISettingRegistry],
  optional: [ICommandPalette, ILauncher],
  activate: async (
    app: JupyterFrontEnd,
    conn: IMevlabConnection,
    registry: ISettingRegistry,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
  ) => {
    const settings = await registry.load(PLUGIN_ID);
    const tracker = new WidgetTracker<MainAreaWidget<MevlabPanel>>({ namespace: "mevlab" });
    app.commands.addCommand(OPEN, {
      label: "mevlab: Control & Live",
      caption: "Start, stop and kill the agents; watch opportunities live",
      execute: openOnce(app, tracker, "mevlab-main", "mevlab", () => {
        const { maxRows, defaultDexes, defaultMinNetSol } = read(settings);
        const panel = new MevlabPanel(conn, () => read(settings).controlPlaneUrl, maxRows, {
          filters: { dexes: defaultDexes, minNetSol: defaultMinNetSol },
          openInNotebook: (args) =>
            void app.commands.execute(OPEN_IN_NOTEBOOK, args as unknown as ReadonlyPartialJSONObject),
        });
        const rows = () => panel.setMaxRows(read(settings).maxRows);
        settings.changed.connect(rows);
        // A closed panel lets go of its rows (100,000 a tab): the settings no longer hold it.
        panel.disposed.connect(() => settings.changed.disconnect(rows));
        return panel;
      }),
    });
    palette?.addItem({ command: OPEN, category: "mevlab" });
    launcher?.add({ command: OPEN, category: "mevlab", rank: 0 });
    app.commands.addCommand(KILL_ALL, {
      label: "mevlab: Kill all agents",
      caption: "Asks first, naming every agent it will stop",
      isEnabled: () => conn.session?.role === "admin" && conn.link !== "expired",
      execute: async () => {
        const text = await killAllConfirmed(conn);
        if (text !== undefined) Notification.warning(text, { autoClose: 10_000 });
      },
    });
    palette?.addItem({ command: KILL_ALL, category: "mevlab" });
  },
};

/** Dataset exports: the scrape form, jobs with progress, manifests. */
const datasetsPlugin = launchedPanel({
  id: "datasets",
  description: "Dataset exports from the event store: scrape form, jobs, manifests.",
  command: OPEN_DATASETS,
  label: "mevlab: Datasets",
  caption: "Export slices of the event store as Parquet or JSON lines, with a manifest",
  name: "mevlab datasets",
  rank: 1,
  create: (conn) => new DatasetsPanel(conn),
});

/** Training: the blueprint's form, jobs with progress and logs, model cards, compare. */
const trainingPlugin = launchedPanel({
  id: "training",
  description: "Training jobs on slices of the event store: form, progress, logs, model cards, compare.",
  command: OPEN_TRAINING,
  label: "mevlab: Training",
  caption: "Train XGBoost, LightGBM or PyTorch models on a slice; follow jobs, read model cards, compare",
  name: "mevlab training",
  rank: 2,
  create: (conn) => new TrainingPanel(conn),
});

/** Policy: the version in force, the editor, promote live or in shadow, history and rollback, lineage. */
const policyPlugin = launchedPanel({
  id: "policy",
  description: "Policies per module: promote models live or in shadow, roll back, compare, trace the lineage.",
  command: OPEN_POLICY,
  label: "mevlab: Policy",
  caption: "Edit and promote a module's policy and model, run a shadow, roll back, ask what was live when",
  name: "mevlab policy",
  rank: 3,
  create: (conn) => new PolicyPanel(conn),
});

/** Audit (admins): the audit log filtered, exported as CSV, and its chain verified. */
const auditPlugin = launchedPanel({
  id: "audit",
  description: "The audit log for admins: filters, load more, CSV export, the chain verified.",
  command: OPEN_AUDIT,
  label: "mevlab: Audit",
  caption: "Read the audit log (admins): who did what, refused or accepted, when; export it; verify its chain",
  name: "mevlab audit",
  rank: 4,
  create: (conn) => new AuditPanel(conn),
});

export default [
  connectionPlugin,
  panelPlugin,
  datasetsPlugin,
  trainingPlugin,
  policyPlugin,
  auditPlugin,
  openInNotebookPlugin,
  metricsPlugin,
];
