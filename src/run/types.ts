import type { RunStatus } from "../protocol";
import type { ConfigObject } from "../config/resolve";
import type { MetricSummary } from "../metrics/series";

export type { RunStatus };

/** A saved artifact, checkpoint or added file. */
export interface ArtifactRecord {
  /** The name it was saved under (without version suffix or extension). */
  name: string;
  /** 0 for the first save under a name, 1 for `name_1`, … */
  version: number;
  /** Path relative to the run's folder. */
  file: string;
  format: string;
  /** The JavaScript type saved, so load() can give the same type back. */
  type: string;
  mediaType: string;
  size: number;
  sha256: string;
  time: number;
  kind: "artifact" | "checkpoint";
  shape?: number[];
  /** Where an added file came from. */
  source?: string;
  metadata?: Record<string, unknown>;
}

/** A file the run read, stored once by content hash under the store's blobs. */
export interface ResourceRecord {
  path: string;
  sha256: string;
  size: number;
  time: number;
}

/** A notebook cell executed while the run was open. */
export interface CellRecord {
  executionCount: number;
  sha256: string;
  startTime: number;
  endTime?: number;
  ok?: boolean;
  error?: string;
  notebook?: string;
}

/** Everything known about a run, as stored in `run.json`. Non-finite numbers are strings there. */
export interface RunRecord {
  format: 1;
  id: string;
  experiment: string;
  number: number;
  name: string;
  status: RunStatus;
  tags: string[];
  startTime: number;
  endTime?: number;
  /** Milliseconds. */
  duration?: number;
  heartbeat: number;
  pid: number;
  hostname: string;
  config: ConfigObject;
  modified: string[];
  added: string[];
  named: string[];
  seed: number;
  metrics: Record<string, MetricSummary>;
  histograms: string[];
  artifacts: ArtifactRecord[];
  resources: ResourceRecord[];
  cells: CellRecord[];
  metadata: Record<string, unknown>;
  result?: unknown;
  error?: { name: string; message: string; stack?: string };
  rerunOf?: string;
  notebook?: string;
  /** What ended the run: its own end(), the callback returning, a cell ending, a signal or the process exiting. */
  endedBy?: "end" | "callback" | "cell" | "span" | "signal" | "exit" | "shutdown";
}
