export { TrainError } from "../errors";
export * from "./events";
export { prepareInput, type TrainInput, type InputOptions } from "./input";
export { defaultPython, findRepo, runTrainer, type TrainerOutcome, type TrainerProcessOptions } from "./process";
export { train, trainerArgs, type TrainOptions } from "./train";
export { ProgressView, progressHtml, progressText, type HtmlDisplay, type ProgressMode } from "./view";
