/**
 * The progress bar of train(): in a tslab notebook one display entry rewritten in place
 * (`tslab.newDisplay()`, Jupyter's update_display_data); on a terminal one line rewritten with `\r`;
 * otherwise a plain line when the model or phase changes and at most every few seconds.
 */
import type { TrainProgress } from "./events";

export type ProgressMode = "auto" | "tslab" | "tty" | "lines" | "none";

/** The part of tslab's Display that the bar uses. */
export interface HtmlDisplay {
  html(s: string): void;
}

export interface ProgressViewOptions {
  mode?: ProgressMode;
  /** Where tty and lines go (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** A display to draw in (default: tslab's, when running in its kernel). */
  display?: HtmlDisplay;
  /** Lines mode: the least time between two lines of one phase (default 5 s). */
  linesEveryMs?: number;
}

const BAR = 24;

/** One line of text: `xgb 2/3 train  [#####·····]  41%  it 33/200  valid auc 0.81 logloss 0.52`. */
export function progressText(p: TrainProgress): string {
  const filled = Math.round(p.fraction * BAR);
  const bar = `[${"#".repeat(filled)}${"·".repeat(BAR - filled)}]`;
  const pct = `${Math.floor(p.fraction * 100)}%`.padStart(4);
  const which = p.model ? `${p.model} ${p.models.indexOf(p.model) + 1}/${p.models.length} ${p.phase}` : p.phase;
  const it = p.phase === "train" && p.total ? `  it ${p.iteration}/${p.total}` : "";
  const v = p.valid;
  const metrics = v && p.phase === "train" ? `  valid auc ${fmt(v.auc)} logloss ${fmt(v.logloss)}` : "";
  return `${which}  ${bar} ${pct}${it}${metrics}`;
}

function fmt(x: number | null | undefined): string {
  return typeof x === "number" ? x.toFixed(4) : "–";
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function progressHtml(p: TrainProgress, note = ""): string {
  const text = escape(progressText(p).replace(/\s+\[.*?\]\s+/, "  "));
  return (
    `<div class="mevlab-train-progress"><progress value="${p.fraction.toFixed(4)}" max="1" style="width:20em"></progress>` +
    ` <code>${text}</code>${note ? ` <span>${escape(note)}</span>` : ""}</div>`
  );
}

/** The tslab kernel's new display, or undefined outside it (tslab is not loaded or not ready). */
function tslabDisplay(): HtmlDisplay | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tslab = require("tslab") as { newDisplay(): HtmlDisplay };
    const d = tslab.newDisplay();
    d.html(""); // throws "Not ready" outside the kernel
    return d;
  } catch {
    return undefined; // not in a tslab kernel: the terminal or plain lines instead
  }
}

export class ProgressView {
  private readonly mode: Exclude<ProgressMode, "auto">;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private display?: HtmlDisplay;
  private lastLine = 0;
  private lastKey = "";
  private drawn = false;

  constructor(opts: ProgressViewOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.display = opts.display;
    let mode = opts.mode ?? "auto";
    if (mode === "auto" || mode === "tslab") {
      this.display ??= tslabDisplay();
      if (this.display) mode = "tslab";
      else if (mode === "tslab") mode = "none";
      else mode = this.stream.isTTY ? "tty" : "lines";
    }
    this.mode = mode;
    this.linesEveryMs = opts.linesEveryMs ?? 5000;
  }

  private readonly linesEveryMs: number;

  update(p: TrainProgress): void {
    if (this.mode === "tslab") this.display!.html(progressHtml(p));
    else if (this.mode === "tty") this.stream.write(`\r${progressText(p).padEnd(100)}`);
    else if (this.mode === "lines") this.line(p);
    this.drawn = true;
  }

  /** The final state: `done` with the model ids, or the error. */
  finish(p: TrainProgress, note: string): void {
    if (!this.drawn && this.mode !== "tslab") return;
    if (this.mode === "tslab") this.display!.html(progressHtml(p, note));
    else if (this.mode === "tty") this.stream.write(`\r${progressText(p).padEnd(100)}\n${note}\n`);
    else if (this.mode === "lines") this.stream.write(`${progressText(p)}\n${note}\n`);
  }

  private line(p: TrainProgress): void {
    const key = `${p.model}/${p.phase}`;
    const now = Date.now();
    if (key === this.lastKey && now - this.lastLine < this.linesEveryMs) return;
    this.lastKey = key;
    this.lastLine = now;
    this.stream.write(`${progressText(p)}\n`);
  }
}
