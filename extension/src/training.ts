import { Widget } from "@lumino/widgets";
import type { Message } from "@lumino/messaging";
import type { Event, Job } from "@mevlab/proto";
import type { JobView, ModelCard, TrainingMetrics } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";
import { setFormAccess, trainingBody, trainingForm } from "./training-form";
import { cardView, compareView, modelLabel } from "./training-models";
import type { IMevlabConnection } from "./tokens";
import { errorText } from "./errors";

/** One training job as the list shows it, from the REST list or from a WS Job event. */
interface TrainingRow {
  id: string;
  state: string;
  phase: string;
  fraction: number;
  model: string;
  iteration: number;
  total: number;
  metrics: TrainingMetrics | null;
  logTail: string[];
  modelIds: string[];
  error: string;
  createdAt: number;
}

function fromView(j: JobView): TrainingRow {
  return {
    id: j.id,
    state: j.state,
    phase: j.phase ?? "",
    fraction: j.fraction ?? 0,
    model: j.model ?? String((j.params as { models?: string[] } | null)?.models?.join(",") ?? ""),
    iteration: j.iteration ?? 0,
    total: j.total ?? 0,
    metrics: j.metrics,
    logTail: j.log_tail ?? [],
    modelIds: j.model_ids ?? [],
    error: [j.error_code, j.error].filter(Boolean).join(": "),
    createdAt: Number(j.created_at ?? 0),
  };
}

function fromEvent(j: Job): TrainingRow {
  let metrics: TrainingMetrics | null = null;
  try {
    metrics = j.metricsJson ? (JSON.parse(j.metricsJson) as TrainingMetrics) : null;
  } catch {
    metrics = null;
  }
  return {
    id: j.id,
    state: j.state,
    phase: j.phase,
    fraction: j.fraction,
    model: j.model,
    iteration: j.iteration,
    total: j.total,
    metrics,
    logTail: j.logTail,
    modelIds: j.modelIds,
    error: [j.errorCode, j.error].filter(Boolean).join(": "),
    createdAt: Number(j.createdAt),
  };
}

const finished = (state: string) => state === "succeeded" || state === "failed" || state === "cancelled";

/**
 * Training: the blueprint's form, the job list with live progress (the WS job stream) and the log tail,
 * cancel, each published model's card, and two models compared side by side.
 */
export class TrainingPanel extends Widget {
  private readonly jobs = new Map<string, TrainingRow>();
  private readonly cards = new Map<string, ModelCard>();
  private readonly form: HTMLFormElement;
  private readonly message = el("div", { className: "mevlab-training-message", role: "status" });
  private readonly list = el("tbody");
  private readonly logView = el("pre", { className: "mevlab-training-log" });
  private readonly cardArea = el("div", { className: "mevlab-card-area" });
  private readonly compareA = el("select", { className: "jp-mod-styled", name: "compare-a" });
  private readonly compareB = el("select", { className: "jp-mod-styled", name: "compare-b" });
  private readonly compareArea = el("div", { className: "mevlab-compare-area" });
  private shownLog = "";
  private frame = 0;
  private dirty = false;

  constructor(private readonly conn: IMevlabConnection) {
    super();
    this.id = "mevlab-training";
    this.title.label = "mevlab training";
    this.title.closable = true;
    this.addClass("mevlab-training");
    this.form = trainingForm(this.message);
    this.form.onsubmit = (e) => {
      e.preventDefault();
      void this.submit();
    };
    const head = ["Job", "Model", "State", "Progress", "valid AUC", "valid log loss", "Models", ""];
    const table = el(
      "table",
      { className: "mevlab-jobs mevlab-training-jobs" },
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
      this.list,
    );
    const compareButton = el("button", { className: "jp-mod-styled mevlab-compare-button" }, "Compare");
    compareButton.onclick = () => void this.compare();
    this.node.append(
      el("h3", {}, "Train a model"),
      this.form,
      el("h3", {}, "Training jobs"),
      table,
      this.logView,
      this.cardArea,
      el("h3", {}, "Compare two models"),
      el(
        "div",
        { className: "mevlab-compare-pick" },
        this.compareA,
        el("span", {}, "vs"),
        this.compareB,
        compareButton,
      ),
      this.compareArea,
    );
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

  protected override onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this.dirty) this.schedule();
  }

  private onSession(): void {
    this.jobs.clear();
    this.cards.clear();
    this.cardArea.replaceChildren();
    this.compareArea.replaceChildren();
    const s = this.conn.session;
    setFormAccess(this.form, this.message, s?.role ?? null);
    if (s) {
      this.conn.trainingJobs().then(
        (jobs) => {
          for (const j of jobs) if (!this.jobs.has(j.id)) this.jobs.set(j.id, fromView(j));
          this.schedule();
        },
        (err: unknown) => this.say(`cannot list training jobs: ${errorText(err)}`, true),
      );
    }
    this.schedule();
  }

  private onEvents(_: IMevlabConnection, events: Event[]): void {
    let changed = false;
    for (const e of events) {
      if (e.payload.case !== "job" || e.payload.value.kind !== "training") continue;
      this.jobs.set(e.payload.value.id, fromEvent(e.payload.value));
      changed = true;
    }
    if (changed) this.schedule();
  }

  private say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle("mevlab-error", error);
  }

  private async submit(): Promise<void> {
    this.say("starting…");
    try {
      const job = await this.conn.startTraining(trainingBody(this.form));
      if (!this.jobs.has(job.id)) this.jobs.set(job.id, fromView(job));
      this.shownLog = job.id;
      this.say(`training job ${job.id} started`);
      this.schedule();
    } catch (err) {
      this.say(errorText(err), true);
    }
  }

  private async card(id: string): Promise<ModelCard> {
    const known = this.cards.get(id);
    if (known) return known;
    const card = await this.conn.trainingModel(id);
    this.cards.set(id, card);
    return card;
  }

  private async showCard(id: string): Promise<void> {
    try {
      this.cardArea.replaceChildren(cardView(await this.card(id)));
    } catch (err) {
      this.cardArea.replaceChildren(el("div", { className: "mevlab-error" }, `card ${id}: ${errorText(err)}`));
    }
  }

  private async compare(): Promise<void> {
    const [a, b] = [this.compareA.value, this.compareB.value];
    if (!a || !b || a === b) {
      this.compareArea.replaceChildren(el("div", { className: "mevlab-error" }, "pick two different models"));
      return;
    }
    try {
      const [ca, cb] = await Promise.all([this.card(a), this.card(b)]);
      this.compareArea.replaceChildren(compareView(ca, cb));
    } catch (err) {
      this.compareArea.replaceChildren(el("div", { className: "mevlab-error" }, errorText(err)));
    }
  }

  /** Renders once per animation frame, and not at all while hidden (the next show renders). */
  private schedule(): void {
    if (!this.isVisible) {
      this.dirty = true;
      return;
    }
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.dirty = false;
      this.render();
    });
  }

  private render(): void {
    const rows = [...this.jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
    const admin = this.conn.session?.role === "admin";
    this.list.replaceChildren(...rows.map((j) => this.jobRow(j, admin)));
    const shown = this.jobs.get(this.shownLog);
    this.logView.hidden = !shown;
    this.logView.dataset.job = shown?.id ?? "";
    this.logView.textContent = shown ? `log · ${shown.id}\n${shown.logTail.join("\n")}` : "";
    this.renderPickers(rows);
  }

  private jobRow(j: TrainingRow, admin: boolean): HTMLTableRowElement {
    const pct = Math.round(j.fraction * 100);
    const steps = j.total ? ` · ${j.iteration}/${j.total}` : "";
    const bar = el(
      "div",
      { className: "mevlab-progress" },
      el("div", { className: `mevlab-progress-fill mevlab-job-${j.state}` }),
    );
    (bar.firstChild as HTMLElement).style.width = `${pct}%`;
    return el(
      "tr",
      { dataset: { job: j.id, state: j.state } },
      el("td", { title: j.id }, j.id.slice(0, 12)),
      el("td", {}, j.model),
      el("td", { className: "mevlab-job-state", title: j.error }, j.state + (j.error ? `: ${j.error}` : "")),
      el("td", {}, bar, el("span", { className: "mevlab-progress-text" }, `${pct}% ${j.phase}${steps}`)),
      el("td", {}, fmt(j.metrics?.valid?.auc)),
      el("td", {}, fmt(j.metrics?.valid?.logloss)),
      el("td", {}, ...j.modelIds.map((id) => this.cardButton(j, id))),
      this.jobActions(j, admin),
    );
  }

  private cardButton(j: TrainingRow, id: string): HTMLButtonElement {
    const label = `Card ${j.model} ${id.slice(0, 8)}`;
    const b = el("button", { className: "jp-mod-styled mevlab-open-card", dataset: { model: id }, title: id }, label);
    b.onclick = () => void this.showCard(id);
    return b;
  }

  /** Log (any job) and Cancel (admins, while the job is queued or running). */
  private jobActions(j: TrainingRow, admin: boolean): HTMLTableCellElement {
    const log = el("button", { className: "jp-mod-styled mevlab-show-log", dataset: { job: j.id } }, "Log");
    log.onclick = () => {
      this.shownLog = this.shownLog === j.id ? "" : j.id;
      this.schedule();
    };
    const actions = el("td", {}, log);
    if (admin && !finished(j.state)) {
      const cancel = el("button", { className: "jp-mod-styled mevlab-cancel-job", dataset: { job: j.id } }, "Cancel");
      cancel.onclick = () =>
        void this.conn.cancelTraining(j.id).catch((err: unknown) => this.say(errorText(err), true));
      actions.append(cancel);
    }
    return actions;
  }

  /** The compare pickers list every published model; rebuilt only when that list changes. */
  private renderPickers(rows: TrainingRow[]): void {
    const models = rows.filter((j) => j.state === "succeeded").flatMap((j) => j.modelIds.map((id) => ({ id, j })));
    const key = models.map((m) => m.id).join(",");
    if (this.compareA.dataset.models === key) return;
    for (const [pick, fallback] of [
      [this.compareA, 1],
      [this.compareB, 0],
    ] as const) {
      const keep = pick.value;
      pick.replaceChildren(
        ...models.map((m) => el("option", { value: m.id }, modelLabel({ model: m.j.model, id: m.id }))),
      );
      pick.dataset.models = key;
      pick.value = models.some((m) => m.id === keep) ? keep : (models[fallback]?.id ?? models[0]?.id ?? "");
    }
  }
}

function fmt(v: number | null | undefined): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(4) : "";
}
