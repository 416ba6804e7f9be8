import type { TrainingRequest } from "@mevlab/kernel-helpers/client";
import { el } from "./dom";

const GPU = [
  ["off", "off (CPU)"],
  ["on", "on (CUDA, fails without a GPU)"],
  ["auto", "auto (a GPU when there is one)"],
] as const;

/** The numeric parameters of the form: name, label, default shown as placeholder, step. */
const MAIN_PARAMS = [
  ["max_depth", "max_depth", "6", "1"],
  ["learning_rate", "learning_rate", "0.1 (torch 0.001)", "any"],
] as const;
const MORE_PARAMS = [
  ["n_estimators", "n_estimators / epochs", "200 (torch 30)", "1"],
  ["seed", "seed", "0", "1"],
  ["early_stopping_rounds", "early stopping rounds (0: off)", "20 (torch 5)", "1"],
] as const;

type Attrs = Partial<Omit<HTMLInputElement, "dataset">>;

const input = (name: string, attrs: Attrs) => el("input", { name, className: "jp-mod-styled", ...attrs });
const select = (name: string, options: ReadonlyArray<readonly [string, string]>) =>
  el(
    "select",
    { name, className: "jp-mod-styled" },
    ...options.map(([value, label]) => el("option", { value }, label)),
  );
const field = (label: string, control: HTMLElement) =>
  el("label", { className: "mevlab-field" }, el("span", {}, label), control);
const numberField = ([name, label, placeholder, step]: readonly [string, string, string, string]) =>
  field(label, input(name, { type: "number", min: "0", step, placeholder }));

/** The blueprint's training form (module, range, features, model, GPU, params); `message` goes last. */
export function trainingForm(message: HTMLElement): HTMLFormElement {
  const today = new Date().toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return el(
    "form",
    { className: "mevlab-training-form" },
    field(
      "Module",
      select("module", [
        ["arbitrage", "Arbitrage"],
        ["mev", "MEV Sandwich"],
      ]),
    ),
    field(
      "Features",
      select("features", [
        ["default", "default"],
        ["extended", "extended"],
      ]),
    ),
    field("From", input("from", { type: "date", value: today })),
    field("To", input("to", { type: "date", value: tomorrow })),
    field(
      "Model",
      select("model", [
        ["xgb", "XGBoost (xgb)"],
        ["lgbm", "LightGBM (lgbm)"],
        ["torch", "PyTorch MLP (torch)"],
      ]),
    ),
    field("GPU", select("gpu", GPU)),
    ...MAIN_PARAMS.map(numberField),
    el(
      "details",
      { className: "mevlab-more-params" },
      el("summary", {}, "More params"),
      el("div", { className: "mevlab-more-params-grid" }, ...MORE_PARAMS.map(numberField)),
    ),
    el("button", { type: "submit", className: "jp-mod-styled jp-mod-accept mevlab-train-button" }, "Start training"),
    message,
  );
}

/** The form's values as the body of `POST /api/training/start`; empty parameters are left to the trainer. */
export function trainingBody(form: HTMLFormElement): TrainingRequest {
  const data = new FormData(form);
  const text = (k: string) => String(data.get(k) ?? "").trim();
  const params: Record<string, number> = {};
  for (const [name] of [...MAIN_PARAMS, ...MORE_PARAMS]) {
    if (text(name) !== "") params[name] = Number(text(name));
  }
  const gpu = text("gpu");
  return {
    module: text("module") as TrainingRequest["module"],
    range: { from: text("from"), to: text("to") },
    features: text("features"),
    model: text("model") as "xgb" | "lgbm" | "torch",
    gpu: gpu === "auto" ? "auto" : gpu === "on",
    params,
  };
}

/** Enables the form for admins; anyone else sees it disabled, with why. */
export function setFormAccess(form: HTMLFormElement, message: HTMLElement, role: string | null): void {
  const admin = role === "admin";
  for (const c of form.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>(
    "input, select, button",
  )) {
    c.disabled = !admin;
  }
  message.classList.remove("mevlab-error");
  message.textContent = !role
    ? "Log in (mevlab: Control & Live) to train models."
    : !admin
      ? "Viewers can watch jobs and read model cards; training needs an admin."
      : "";
}
