/** What a host (the notebook's sweep card) may read of a sweep while it runs. */
import type { SweepRecord, SweepTrial } from "../../protocol";

/** A sweep as it stands now. */
export interface SweepView {
  /** The sweep's record as it stands now (what its file holds). */
  record(): SweepRecord;
  /** The running trial with its metric's last value so far, if a trial is running. */
  current(): { trial: SweepTrial; value?: number } | undefined;
  /** The space's keys, in order, and how each axis reads (a log scale for log-uniform keys). */
  readonly keys: readonly string[];
}

/** A sweep's live display, made by the host: told when something changed, and when the sweep ended. */
export interface SweepDisplay {
  changed(): void;
  ended(): void;
}
