/**
 * labnote: an experiment manager for TypeScript notebooks.
 * @example
 * import { experiment } from "labnote";
 * const exp = await experiment("mnist", { config: { lr: 0.01, epochs: 10 } });
 * await exp.run(async (run) => { for (let e = 0; e < run.config.epochs; e++) run.log("loss", 1 / (e + 1)); });
 */
export { experiment, exportNotebook } from "./compose";
export type { LabnoteOptions } from "./compose";
export { TensorBoardSink } from "./sinks/tensorboard/sink";
export type { TensorBoardOptions } from "./sinks/tensorboard/sink";
export { MlflowSink } from "./sinks/mlflow/sink";
export type { MlflowOptions } from "./sinks/mlflow/sink";
export { Experiment } from "./core/experiment";
export type { ExperimentOptions, StartOptions, CaptureOptions, RunCallback, Captured } from "./core/experiment";
export { Run } from "./core/run";
export type { EndOptions, RunEnvironment, RunSink, RunObserver, RunView, SeriesView, MetricBatch, ProgressEvent } from "./core/events";
export type { AddFileOptions } from "./core/run-artifacts";
export type { RunRecord, ArtifactRecord, ResourceRecord, CellRecord, RunStatus, MetricSummary, MetricPoints, MetricColumns, Histogram, LabnoteErrorCode } from "./protocol";
export type { RunComparison, CodeDiff, CellChange, CellRef, DiffHunk, DiffLine, Query, QueryTerm, QueryRecord } from "./protocol";
export { parseQuery, matchRecord, diffLines, formatDiff } from "./protocol";
export type { RunRef } from "./core/compare";
export { FinishedRun } from "./history/finished";
export { loadConfig } from "./core/config/load";
export { pinSeeds } from "./core/capture/seed";
export type { SeedPin } from "./core/capture/seed";
export type { Saver, SaverTest, SaveOptions } from "./core/artifacts/formats";
export { LabnoteError, isLabnoteError, MIME, PROTOCOL_VERSION } from "./protocol";
export { listExperiments } from "./history/read";
export { whenWritten } from "./sinks/file/writer";
export type { RunsTable } from "./history/table";
export { ExperimentManager } from "./compat/experiment-manager";
export { createExperiment, getExperiment } from "./compat/experiment-manager-package";
export type { Progress } from "./core/progress";
export { Sweep } from "./core/sweep/result";
export type { SweepBest } from "./core/sweep/result";
export type { SweepOptions } from "./core/sweep/run";
export type { SweepRecord, SweepTrial, SweepSpace, SweepDistribution, SweepStrategy, SweepGoal, SweepStatus, TrialStatus, SweepPayload, SweepRow } from "./protocol";
export { SWEEP_MIME, parseSweepRecord } from "./protocol";

// In a tslab kernel, labnote's cards and cell-scoped runs switch on when it is imported, so
// the importing cell is the one in flight. Outside a kernel this does nothing.
import { installNotebook } from "./kernel/notebook";
installNotebook();
