/**
 * The command `mevlab:open-in-notebook`: the helper-library cell that slices what a live-stream tab
 * shows, inserted below the active cell of the current TypeScript (tslab) notebook, or into a new one.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";
import { Notification } from "@jupyterlab/apputils";
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import { errorText } from "./errors";
import { OpenInNotebookArgsError, parseOpenInNotebookArgs, sliceCellSource } from "./open-in-notebook-cell";

export const OPEN_IN_NOTEBOOK = "mevlab:open-in-notebook";
/** The TypeScript kernel the cell is written for. */
const KERNEL = "tslab";

/** Registers `mevlab:open-in-notebook`, executed by the live stream's "Open in notebook" button. */
export const openInNotebookPlugin: JupyterFrontEndPlugin<void> = {
  id: "@mevlab/extension:open-in-notebook",
  description: "Open in notebook: a ready-to-run slice of what the live stream shows, in a TypeScript notebook.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker) => {
    app.commands.addCommand(OPEN_IN_NOTEBOOK, {
      label: "Open in notebook",
      caption:
        "Slice what the live stream shows (module, DEX and net SOL filters, time range) in a TypeScript notebook",
      execute: async (args) => {
        let source: string;
        try {
          source = sliceCellSource(parseOpenInNotebookArgs(args));
        } catch (e) {
          if (!(e instanceof OpenInNotebookArgsError)) throw e;
          Notification.error(`Open in notebook: ${e.message}`, { autoClose: 10_000 });
          return undefined;
        }
        try {
          return await insertCell(app, tracker, source);
        } catch (e) {
          Notification.error(`Open in notebook: no ${KERNEL} notebook could take the cell (${errorText(e)})`, {
            autoClose: false,
          });
          return undefined;
        }
      },
    });
  },
};

/** Puts `source` in a code cell of the target notebook, selects it and brings the notebook forward. */
async function insertCell(app: JupyterFrontEnd, tracker: INotebookTracker, source: string): Promise<NotebookPanel> {
  const panel = await targetNotebook(app, tracker);
  await panel.context.ready;
  const notebook = panel.content;
  const model = notebook.model;
  if (!model) throw new Error("the notebook has no model");
  const shared = model.sharedModel;
  const only = shared.cells.length === 1 ? shared.cells[0] : undefined;
  let index: number;
  if (only && only.cell_type === "code" && only.getSource().trim() === "") {
    // A new notebook's one empty cell takes the slice instead of sitting above it.
    only.setSource(source);
    index = 0;
  } else {
    index = Math.min(Math.max(notebook.activeCellIndex, -1) + 1, shared.cells.length);
    shared.insertCell(index, { cell_type: "code", source });
  }
  notebook.activeCellIndex = index;
  notebook.mode = "command";
  app.shell.activateById(panel.id);
  const cell = notebook.activeCell;
  if (cell) await notebook.scrollToCell(cell);
  return panel;
}

/** The current notebook when it runs TypeScript, else a new notebook with the tslab kernel. */
async function targetNotebook(app: JupyterFrontEnd, tracker: INotebookTracker): Promise<NotebookPanel> {
  const current = tracker.currentWidget;
  if (current && !current.isDisposed && isTypeScript(current)) return current;
  const created = (await app.commands.execute("notebook:create-new", { kernelName: KERNEL })) as
    NotebookPanel | undefined;
  if (!created) throw new Error("JupyterLab created no notebook");
  return created;
}

function isTypeScript(panel: NotebookPanel): boolean {
  const running = panel.sessionContext.session?.kernel?.name;
  if (running) return running === KERNEL;
  const spec = panel.model?.getMetadata("kernelspec") as { name?: unknown } | undefined;
  return (spec?.name ?? panel.sessionContext.kernelPreference.name) === KERNEL;
}
