import { Widget } from "@lumino/widgets";
import type { LiveFilters } from "./live-feed";

export interface LiveToolbarActions {
  filters: LiveFilters;
  apply(filters: LiveFilters): void;
  togglePause(): void;
  openInNotebook(): void;
}

/**
 * The live stream's toolbar: DEX filter (one or more, comma-separated), min net SOL, Apply, the feed's
 * state, Pause / Resume, Open in notebook and the caption (rows shown; paused: how many arrived since).
 */
export class LiveToolbar extends Widget {
  private readonly dexInput = document.createElement("input");
  private readonly minInput = document.createElement("input");
  private readonly error = document.createElement("span");
  private readonly stateEl = document.createElement("span");
  private readonly pauseButton = document.createElement("button");
  private readonly caption = document.createElement("span");
  private readonly note = document.createElement("span");

  constructor(private readonly actions: LiveToolbarActions) {
    super();
    this.addClass("mevlab-live-toolbar");
    const dexLabel = label("DEX", this.dexInput);
    this.dexInput.className = "jp-mod-styled mevlab-filter-dex";
    this.dexInput.placeholder = "all (e.g. Raydium, Orca)";
    this.dexInput.title = "Opportunities touching one of these DEXes (comma-separated, any case); empty: all";
    const minLabel = label("min net SOL", this.minInput);
    this.minInput.className = "jp-mod-styled mevlab-filter-min-net-sol";
    this.minInput.inputMode = "decimal";
    this.minInput.placeholder = "any";
    this.minInput.title = "Opportunities with at least this net profit (SOL); empty: all";
    const apply = button("Apply filters", "mevlab-filter-apply", () => this.apply());
    for (const input of [this.dexInput, this.minInput]) {
      input.onkeydown = (ev) => {
        if (ev.key === "Enter") this.apply();
      };
    }
    this.error.className = "mevlab-filter-error";
    this.error.setAttribute("role", "alert");
    this.stateEl.className = "mevlab-live-state";
    this.pauseButton.className = "jp-mod-styled mevlab-live-pause";
    this.pauseButton.onclick = () => actions.togglePause();
    this.setPaused(false);
    const open = button("Open in notebook", "mevlab-open-in-notebook", () => actions.openInNotebook());
    open.title = "A notebook cell that slices exactly the rows shown (this tab, these filters, this time range)";
    this.caption.className = "mevlab-caption";
    this.note.className = "mevlab-live-note";
    this.node.append(
      dexLabel,
      minLabel,
      apply,
      this.error,
      this.pauseButton,
      open,
      this.caption,
      this.stateEl,
      this.note,
    );
  }

  /** Shows the filters in force (also after a change made elsewhere). */
  setFilters(f: LiveFilters): void {
    this.dexInput.value = f.dexes.join(", ");
    this.minInput.value = f.minNetSol === null ? "" : String(f.minNetSol);
  }

  setPaused(paused: boolean): void {
    this.pauseButton.textContent = paused ? "Resume" : "Pause";
    this.pauseButton.dataset.paused = String(paused);
  }

  setState(state: string): void {
    this.stateEl.textContent = state;
  }

  setCaption(text: string): void {
    if (this.caption.textContent !== text) this.caption.textContent = text;
  }

  setNote(text: string): void {
    this.note.textContent = text;
  }

  private apply(): void {
    const raw = this.minInput.value.trim();
    const min = raw === "" ? null : Number(raw);
    if (min !== null && !Number.isFinite(min)) {
      this.error.textContent = `min net SOL: '${raw}' is not a number`;
      this.minInput.setAttribute("aria-invalid", "true");
      return;
    }
    this.error.textContent = "";
    this.minInput.removeAttribute("aria-invalid");
    this.actions.apply({ dexes: this.dexInput.value.split(","), minNetSol: min });
  }
}

function label(text: string, input: HTMLInputElement): HTMLLabelElement {
  const el = document.createElement("label");
  el.className = "mevlab-live-filter";
  el.append(`${text} `, input);
  return el;
}

function button(text: string, cls: string, onclick: () => void): HTMLButtonElement {
  const el = document.createElement("button");
  el.className = `jp-mod-styled ${cls}`;
  el.textContent = text;
  el.onclick = onclick;
  return el;
}
