import type { Histogram } from "../metrics/histogram";
import type { Series } from "../metrics/series";
import type { ArtifactRecord } from "./types";
import type { Run } from "./run";

/** New points of one metric: indexes [from, to) of its series. */
export interface MetricBatch {
  series: Series;
  from: number;
  to: number;
}

/**
 * A sink for what a run does. The file store is one; live widgets, MLflow and TensorBoard
 * are others. Calls are synchronous and in order; a sink with slow I/O queues internally
 * and finishes in `drain()`, which `run.end()` awaits.
 */
export interface RunObserver {
  /** Errors from a critical observer reach the caller (the file store); others are reported once and ignored. */
  readonly critical?: boolean;
  started?(run: Run): void;
  metrics?(run: Run, batch: MetricBatch[]): void;
  histogram?(run: Run, h: Histogram): void;
  artifact?(run: Run, artifact: ArtifactRecord): void;
  output?(run: Run, stream: "stdout" | "stderr", text: string): void;
  /** About every few seconds while the run is open, and when its record changed. */
  heartbeat?(run: Run): void;
  ended?(run: Run): void;
  drain?(): Promise<void>;
}
