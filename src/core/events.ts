/**
 * A run is a stream of events: started, metrics, histogram, artifact, output, progress,
 * heartbeat, ended. The core emits them; sinks listen (the file store, the notebook's cards,
 * and any sink a user adds). A sink sees a read-only view of the run, never the Run itself.
 */
import type { ArtifactRecord, MetricSummary, RunRecord, RunStatus, SweepRecord } from "../protocol";
import type { Histogram } from "./metrics/histogram";
import type { DependencyInfo } from "./capture/deps";
import type { GitInfo } from "./capture/git";
import type { HostInfo } from "./capture/host";
import type { SourceEntry } from "./capture/sources";

/** What a run captured about where it ran. */
export interface RunEnvironment {
  host?: HostInfo;
  git?: GitInfo;
  dependencies?: DependencyInfo;
  sources?: { projectDir: string; files: SourceEntry[]; skipped: string[] };
}

/** One metric's points, read by position (they are held in chunks, not one array). */
export interface SeriesView {
  readonly name: string;
  readonly count: number;
  step(i: number): number;
  value(i: number): number;
  time(i: number): number;
  /** Copies of points [from, to) as plain typed arrays. */
  copyRange(from: number, to: number): { steps: Float64Array; values: Float64Array; times: Float64Array };
  summary(): MetricSummary;
}

/** New points of one metric: indexes [from, to) of its series. */
export interface MetricBatch {
  series: SeriesView;
  from: number;
  to: number;
}

/** A progress bar's state: started, advanced, done. */
export interface ProgressEvent {
  /** Unique per bar. */
  id: string;
  label: string;
  count: number;
  total?: number;
  startTime: number;
  /** When this state was reached. */
  time: number;
  done: boolean;
}

/** What a sink may read of a run. */
export interface RunView {
  readonly id: string;
  readonly experiment: string;
  readonly number: number;
  readonly name: string;
  readonly tags: readonly string[];
  readonly status: RunStatus;
  readonly ended: boolean;
  readonly startTime: number;
  /** The run's folder, or undefined for a ghost run. */
  readonly dir: string | undefined;
  readonly env: RunEnvironment;
  /** The record as it stands now (what `run.json` holds). */
  record(): RunRecord;
  metricNames(): string[];
  /** A metric's live points, read in place. */
  series(name: string): SeriesView | undefined;
}

/** What a sink may read of a sweep of its experiment (its trials are runs with `metadata.sweep = { id, trial }`). */
export interface SweepSinkView {
  /** `<experiment>/sweep-<number>` */
  readonly id: string;
  readonly experiment: string;
  readonly number: number;
  /** The folder of the experiment's sweep records (`<root>/<experiment>/_sweeps`), or undefined for a ghost experiment. */
  readonly dir: string | undefined;
  /** The sweep's record as it stands now (what its file holds). */
  record(): SweepRecord;
}

/**
 * A sink for what a run does. Calls are synchronous and in order; a sink with slow I/O queues
 * internally and finishes in `drain()`, which `run.end()` awaits.
 */
export interface RunSink {
  /** Errors from a critical sink reach the caller (the file store); others are reported once and ignored. */
  readonly critical?: boolean;
  started?(run: RunView): void;
  metrics?(run: RunView, batch: MetricBatch[]): void;
  histogram?(run: RunView, h: Histogram): void;
  artifact?(run: RunView, artifact: ArtifactRecord): void;
  output?(run: RunView, stream: "stdout" | "stderr", text: string): void;
  progress?(run: RunView, p: ProgressEvent): void;
  /** About every few seconds while the run is open, and when its record changed. */
  heartbeat?(run: RunView): void;
  ended?(run: RunView): void;
  /** A sweep of the experiment started or resumed; it is told before its first trial starts. */
  sweepStarted?(sweep: SweepSinkView): void;
  /** A sweep's record changed (a trial started or ended). */
  sweepChanged?(sweep: SweepSinkView): void;
  /** A sweep ended (completed, failed or interrupted); its record says how. */
  sweepEnded?(sweep: SweepSinkView): void;
  /** Resolves when everything received is written. */
  drain?(): Promise<void>;
  /** Blocks until everything received is written (signal and exit paths). */
  drainSync?(): void;
}

/** How a run ends. */
export interface EndOptions {
  status?: Exclude<RunStatus, "running" | "died">;
  result?: unknown;
  error?: unknown;
  endedBy?: RunRecord["endedBy"];
}

/** The earlier name of {@link RunSink}. @deprecated use RunSink */
export type RunObserver = RunSink;
