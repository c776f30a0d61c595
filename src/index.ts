/**
 * labnote: an experiment manager for TypeScript notebooks.
 * @example
 * import { experiment } from "labnote";
 * const exp = await experiment("mnist", { config: { lr: 0.01, epochs: 10 } });
 * await exp.run(async (run) => { for (let e = 0; e < run.config.epochs; e++) run.log("loss", 1 / (e + 1)); });
 */
export { experiment, Experiment } from "./experiment/experiment";
export type { ExperimentOptions, StartOptions, CaptureOptions, RunCallback } from "./experiment/experiment";
export { Run } from "./run/run";
export type { EndOptions, RunEnvironment } from "./run/run";
export type { RunObserver, MetricBatch } from "./run/observer";
export type { RunRecord, ArtifactRecord, ResourceRecord, CellRecord, RunStatus } from "./run/types";
export { FinishedRun } from "./history/finished";
export { loadConfig } from "./config/load";
export type { Saver, SaverTest, SaveOptions } from "./artifacts/formats";
export type { Histogram } from "./metrics/histogram";
export { LabnoteError, isLabnoteError } from "./errors";
export type { LabnoteErrorCode } from "./errors";
export { listExperiments } from "./history/read";
export type { RunsTable } from "./history/table";
export { ExperimentManager } from "./compat/experiment-manager";
export { createExperiment, getExperiment } from "./compat/experiment-manager-package";
export type { Progress } from "./display/progress";
export { MIME, PROTOCOL_VERSION } from "./protocol";

// In a tslab kernel, labnote's cards and cell-scoped runs switch on when it is imported, so
// the importing cell is the one in flight. Outside a kernel this does nothing.
import { installNotebook } from "./display/notebook";
installNotebook();
