import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget, WidgetTracker } from "@jupyterlab/apputils";
import { ILauncher } from "@jupyterlab/launcher";
import type { Widget } from "@lumino/widgets";
import { IMevlabConnection } from "./tokens";

/**
 * A command's `execute` for a panel that exists at most once: it brings the open one forward, or
 * creates it in the main area.
 */
export function openOnce<T extends Widget>(
  app: JupyterFrontEnd,
  tracker: WidgetTracker<MainAreaWidget<T>>,
  id: string,
  label: string,
  content: () => T,
): () => MainAreaWidget<T> {
  return () => {
    const open = tracker.currentWidget;
    if (open && !open.isDisposed) {
      app.shell.activateById(open.id);
      return open;
    }
    const widget = new MainAreaWidget({ content: content() });
    widget.id = id;
    widget.title.label = label;
    void tracker.add(widget);
    app.shell.add(widget, "main");
    app.shell.activateById(widget.id);
    return widget;
  };
}

/** A panel opened once from the palette and the launcher: Datasets, Training, Policy, Audit and Metrics are such. */
export function launchedPanel<P extends Widget>(opts: {
  id: string;
  description: string;
  command: string;
  label: string;
  caption: string;
  name: string;
  rank: number;
  create: (conn: IMevlabConnection) => P;
}): JupyterFrontEndPlugin<void> {
  return {
    id: `@mevlab/extension:${opts.id}`,
    description: opts.description,
    autoStart: true,
    requires: [IMevlabConnection],
    optional: [ICommandPalette, ILauncher],
    activate: (
      app: JupyterFrontEnd,
      conn: IMevlabConnection,
      palette: ICommandPalette | null,
      launcher: ILauncher | null,
    ) => {
      const tracker = new WidgetTracker<MainAreaWidget<P>>({ namespace: `mevlab-${opts.id}` });
      app.commands.addCommand(opts.command, {
        label: opts.label,
        caption: opts.caption,
        execute: openOnce(app, tracker, `mevlab-${opts.id}-main`, opts.name, () => opts.create(conn)),
      });
      palette?.addItem({ command: opts.command, category: "mevlab" });
      launcher?.add({ command: opts.command, category: "mevlab", rank: opts.rank });
    },
  };
}
