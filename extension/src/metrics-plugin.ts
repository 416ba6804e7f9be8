import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget, WidgetTracker } from "@jupyterlab/apputils";
import { ILauncher } from "@jupyterlab/launcher";
import { MetricsPanel } from "./metrics-panel";
import { IMevlabConnection } from "./tokens";

const OPEN_METRICS = "mevlab:metrics";

/** Metrics: the summary's cards and charts of cumulative PnL, hot path p99 and landed share. */
export const metricsPlugin: JupyterFrontEndPlugin<void> = {
  id: "@mevlab/extension:metrics",
  description: "Metric cards and charts: cumulative PnL, hot path p99, landed share, refreshed once a second.",
  autoStart: true,
  requires: [IMevlabConnection],
  optional: [ICommandPalette, ILauncher],
  activate: (
    app: JupyterFrontEnd,
    conn: IMevlabConnection,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
  ) => {
    const tracker = new WidgetTracker<MainAreaWidget<MetricsPanel>>({ namespace: "mevlab-metrics" });
    app.commands.addCommand(OPEN_METRICS, {
      label: "mevlab: Metrics",
      caption: "Hot path and send latency, landed share, PnL and store writes; charts of the last hour",
      execute: () => {
        const open = tracker.currentWidget;
        if (open && !open.isDisposed) {
          app.shell.activateById(open.id);
          return open;
        }
        const widget = new MainAreaWidget({ content: new MetricsPanel(conn) });
        widget.id = "mevlab-metrics-main";
        widget.title.label = "mevlab metrics";
        void tracker.add(widget);
        app.shell.add(widget, "main");
        app.shell.activateById(widget.id);
        return widget;
      },
    });
    palette?.addItem({ command: OPEN_METRICS, category: "mevlab" });
    launcher?.add({ command: OPEN_METRICS, category: "mevlab", rank: 5 });
  },
};
