import { Widget } from "@lumino/widgets";
import type { Event, Job } from "@mevlab/proto";
import type { JobView, ScrapeRequest } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";
import type { IMevlabConnection } from "./tokens";
import { errorText } from "./errors";

/** One job as the list shows it, from the REST list or from a WS Job event. */
interface JobRow {
  id: string;
  state: string;
  phase: string;
  fraction: number;
  rows: string;
  bytes: string;
  filesDone: number;
  filesTotal: number;
  error: string;
  output: string;
  datasetId: string;
  createdAt: number;
  manifest: Manifest | null;
}

type Manifest = NonNullable<JobView["manifest"]>;

const TYPES = [
  ["arb", "Arbitrage"],
  ["mev", "MEV Sandwich"],
  ["outcomes", "Bundle outcomes"],
  ["metrics", "Agent metrics"],
] as const;

function fromView(j: JobView): JobRow {
  return {
    id: j.id,
    state: j.state,
    phase: j.phase ?? "",
    fraction: j.fraction ?? 0,
    rows: j.rows ?? "0",
    bytes: j.bytes ?? "0",
    filesDone: j.files_done ?? 0,
    filesTotal: j.files_total ?? 0,
    error: j.error ?? "",
    output: j.output ?? "",
    datasetId: j.dataset_id ?? "",
    createdAt: Number(j.created_at ?? 0),
    manifest: j.manifest,
  };
}

function fromEvent(j: Job): JobRow {
  let manifest: Manifest | null = null;
  if (j.manifestJson) {
    try {
      manifest = JSON.parse(j.manifestJson) as Manifest;
    } catch {
      manifest = null;
    }
  }
  return {
    id: j.id,
    state: j.state,
    phase: j.phase,
    fraction: j.fraction,
    rows: j.rows.toString(),
    bytes: j.bytes.toString(),
    filesDone: j.filesDone,
    filesTotal: j.filesTotal,
    error: j.error,
    output: j.output,
    datasetId: j.datasetId,
    createdAt: Number(j.createdAt),
    manifest,
  };
}

function bytesText(b: string): string {
  const n = Number(b);
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Dataset exports: the blueprint's scrape form, the job list with progress bars (updated live from the
 * WS), cancel, and each finished dataset's manifest.
 */
export class DatasetsPanel extends Widget {
  private readonly jobs = new Map<string, JobRow>();
  private readonly form: HTMLFormElement;
  private readonly message: HTMLElement;
  private readonly list: HTMLTableSectionElement;
  private readonly manifestView: HTMLElement;
  private shownManifest = "";
  private frame = 0;

  constructor(private readonly conn: IMevlabConnection) {
    super();
    this.id = "mevlab-datasets";
    this.title.label = "mevlab datasets";
    this.title.closable = true;
    this.addClass("mevlab-datasets");

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const input = (name: string, attrs: Partial<Omit<HTMLInputElement, "dataset">>) =>
      el("input", { name, className: "jp-mod-styled", ...attrs });
    const select = (name: string, options: string[]) =>
      el("select", { name, className: "jp-mod-styled" }, ...options.map((o) => el("option", { value: o }, o)));
    const field = (label: string, control: HTMLElement) =>
      el("label", { className: "mevlab-field" }, el("span", {}, label), control);
    this.message = el("div", { className: "mevlab-datasets-message", role: "status" });
    this.form = el(
      "form",
      { className: "mevlab-datasets-form" },
      field("Start", input("start", { type: "date", value: today })),
      field("End", input("end", { type: "date", value: tomorrow })),
      el(
        "fieldset",
        { className: "mevlab-types" },
        el("legend", {}, "Types"),
        ...TYPES.map(([value, label]) =>
          el(
            "label",
            {},
            input("types", { type: "checkbox", value, checked: value === "arb" || value === "mev" }),
            label,
          ),
        ),
      ),
      field("DEX filter (comma)", input("dex", { placeholder: "Raydium,Meteora,PumpSwap" })),
      field("Format", select("format", ["parquet", "jsonl"])),
      field("Compression", select("compress", ["zstd", "gzip", "none"])),
      field("Output", input("output", { placeholder: "a name under the export root, or s3://bucket/prefix" })),
      el(
        "button",
        { type: "submit", className: "jp-mod-styled jp-mod-accept mevlab-scrape-button" },
        "Start Historical Scrape",
      ),
      this.message,
    );
    this.form.onsubmit = (e) => {
      e.preventDefault();
      void this.submit();
    };
    this.list = el("tbody");
    const table = el(
      "table",
      { className: "mevlab-jobs" },
      el(
        "thead",
        {},
        el("tr", {}, ...["Job", "State", "Progress", "Rows", "Size", "Output", ""].map((h) => el("th", {}, h))),
      ),
      this.list,
    );
    this.manifestView = el("div", { className: "mevlab-manifest" });
    this.node.append(el("h3", {}, "Historical scrape"), this.form, el("h3", {}, "Jobs"), table, this.manifestView);

    conn.events.connect(this.onEvents, this);
    conn.sessionChanged.connect(this.onSession, this);
    this.onSession();
  }

  override dispose(): void {
    this.conn.events.disconnect(this.onEvents, this);
    this.conn.sessionChanged.disconnect(this.onSession, this);
    cancelAnimationFrame(this.frame);
    super.dispose();
  }

  private onSession(): void {
    this.jobs.clear();
    const s = this.conn.session;
    const button = this.form.querySelector("button") as HTMLButtonElement;
    button.disabled = !s || s.role !== "admin";
    this.message.textContent = !s
      ? "Log in (mevlab: Control & Live) to start exports."
      : s.role !== "admin"
        ? "Viewers can watch jobs; exports need an admin."
        : "";
    if (s) {
      this.conn.jobs().then(
        (jobs) => {
          for (const j of jobs) if (!this.jobs.has(j.id)) this.jobs.set(j.id, fromView(j));
          this.schedule();
        },
        (err: unknown) => (this.message.textContent = `cannot list jobs: ${errorText(err)}`),
      );
    }
    this.schedule();
  }

  private onEvents(_: IMevlabConnection, events: Event[]): void {
    let changed = false;
    for (const e of events) {
      if (e.payload.case !== "job" || e.payload.value.kind === "training") continue;
      this.jobs.set(e.payload.value.id, fromEvent(e.payload.value));
      changed = true;
    }
    if (changed) this.schedule();
  }

  private async submit(): Promise<void> {
    const data = new FormData(this.form);
    const text = (k: string) => String(data.get(k) ?? "").trim();
    const body: ScrapeRequest = {
      start: text("start"),
      end: text("end"),
      types: data.getAll("types").map(String),
      dex: text("dex")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      format: text("format") as ScrapeRequest["format"],
      compress: text("compress") as ScrapeRequest["compress"],
    };
    if (text("output")) body.output = text("output");
    this.message.textContent = "starting…";
    this.message.classList.remove("mevlab-error");
    try {
      const job = await this.conn.scrape(body);
      if (!this.jobs.has(job.id)) this.jobs.set(job.id, fromView(job));
      this.message.textContent = `job ${job.id} started → ${job.output}`;
      this.schedule();
    } catch (err) {
      this.message.textContent = errorText(err);
      this.message.classList.add("mevlab-error");
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private render(): void {
    const rows = [...this.jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
    const admin = this.conn.session?.role === "admin";
    this.list.replaceChildren(...rows.map((j) => this.jobRow(j, admin)));
    const shown = this.jobs.get(this.shownManifest);
    this.manifestView.replaceChildren();
    if (shown?.manifest) this.manifestView.append(...manifestView(shown.datasetId, shown.manifest));
  }

  private jobRow(j: JobRow, admin: boolean): HTMLTableRowElement {
    const pct = Math.round(j.fraction * 100);
    return el(
      "tr",
      { dataset: { job: j.id, state: j.state } },
      el("td", { title: j.id }, j.id.slice(0, 12)),
      el("td", { className: "mevlab-job-state", title: j.error }, j.state + (j.error ? `: ${j.error}` : "")),
      el("td", {}, progressBar(j, pct), el("span", { className: "mevlab-progress-text" }, `${pct}%`)),
      el("td", {}, Number(j.rows).toLocaleString()),
      el("td", {}, bytesText(j.bytes)),
      el("td", { className: "mevlab-job-output", title: j.output }, j.output),
      this.jobActions(j, admin),
    );
  }

  /** Cancel (admins, while the job is queued or running) and Manifest (once it has succeeded). */
  private jobActions(j: JobRow, admin: boolean): HTMLTableCellElement {
    const actions = el("td");
    if (admin && (j.state === "queued" || j.state === "running")) {
      const cancel = el("button", { className: "jp-mod-styled mevlab-cancel-job", dataset: { job: j.id } }, "Cancel");
      cancel.onclick = () =>
        void this.conn.cancelJob(j.id).catch((err: unknown) => (this.message.textContent = String(err)));
      actions.append(cancel);
    }
    if (j.state === "succeeded" && j.manifest) {
      const show = el(
        "button",
        { className: "jp-mod-styled mevlab-show-manifest", dataset: { job: j.id } },
        "Manifest",
      );
      show.onclick = () => {
        this.shownManifest = this.shownManifest === j.id ? "" : j.id;
        this.schedule();
      };
      actions.append(show);
    }
    return actions;
  }
}

function progressBar(j: JobRow, pct: number): HTMLDivElement {
  const bar = el(
    "div",
    { className: "mevlab-progress", title: `${j.phase} ${j.filesDone}/${j.filesTotal} files` },
    el("div", { className: `mevlab-progress-fill mevlab-job-${j.state}` }),
  );
  (bar.firstChild as HTMLElement).style.width = `${pct}%`;
  return bar;
}

/** A finished dataset's manifest: where it came from, its files with their hashes, and the JSON itself. */
function manifestView(datasetId: string, m: Manifest): HTMLElement[] {
  return [
    el("h3", {}, `Manifest · ${datasetId}`),
    el("div", {}, `created ${m.created_at} from ${m.source.kind} (${m.source.location})`),
    el(
      "table",
      { className: "mevlab-manifest-files" },
      el("thead", {}, el("tr", {}, ...["File", "Rows", "Size", "sha256"].map((h) => el("th", {}, h)))),
      el(
        "tbody",
        {},
        ...m.files.map((f) =>
          el(
            "tr",
            {},
            el("td", {}, f.path),
            el("td", {}, f.rows.toLocaleString()),
            el("td", {}, bytesText(String(f.bytes))),
            el("td", { className: "mevlab-sha" }, f.sha256),
          ),
        ),
      ),
    ),
    el("details", {}, el("summary", {}, "manifest.json"), el("pre", {}, JSON.stringify(m, null, 2))),
  ];
}
