/** A sweep as its caller gets it back: the record, its trial runs, the best one, a table. */
import { fromWire, latestTrials, rankTrials, type RunRecord, type SweepGoal, type SweepRecord, type SweepStatus, type SweepStrategy, type SweepTrial } from "../../protocol";
import { sweepTable, type RunsTable } from "../../history/sweep";
import { hostHooks } from "../hooks";

/** The best trial of a sweep: its run, values and metric value, and the run's record. */
export interface SweepBest<C = Record<string, unknown>> {
  /** The run's id, `<experiment>/<number>`. */
  run: string;
  /** The trial's index in the plan, from 0. */
  trial: number;
  /** The trial's values, by dotted config key. */
  params: Record<string, unknown>;
  value: number;
  /** The run's whole config. */
  config: C;
  record: RunRecord;
}

/**
 * A sweep: what `exp.sweep()` returns and `exp.getSweep(id)` reopens. A snapshot: it does not
 * change when the sweep goes on elsewhere (reopen it for news).
 */
export class Sweep<C = Record<string, unknown>> {
  /** `<experiment>/sweep-<number>` */
  readonly id: string;
  readonly experiment: string;
  readonly number: number;
  readonly name: string | null;
  readonly strategy: SweepStrategy;
  readonly status: SweepStatus;
  /** The seed of the generator that drew the trials (give it as `seed` to draw them again). */
  readonly seed: number;
  readonly metric: string | null;
  readonly goal: SweepGoal;
  /** How many trials the plan has. */
  readonly total: number;
  /** Every trial run, in the order they started (a trial run again appears twice). */
  readonly trials: readonly SweepTrial[];
  /** The records of the trial runs, in the same order as {@link trials} (one missing from the store is left out). */
  readonly runs: readonly RunRecord[];
  /** The best completed trial by the metric, or undefined. */
  readonly best: SweepBest<C> | undefined;
  readonly #record: SweepRecord;

  /** @internal */
  constructor(record: SweepRecord, runs: readonly RunRecord[]) {
    this.#record = record;
    this.id = record.id;
    this.experiment = record.experiment;
    this.number = record.number;
    this.name = record.name;
    this.strategy = record.strategy;
    this.status = record.status;
    this.seed = record.seed;
    this.metric = record.metric;
    this.goal = record.goal;
    this.total = record.total;
    this.trials = record.runs;
    this.runs = runs;
    const b = record.best;
    const rec = b ? runs.find((r) => r.id === b.run) : undefined;
    this.best = b && rec ? { run: b.run, trial: b.trial, params: b.params, value: fromWire(b.value), config: rec.config as C, record: rec } : undefined;
  }

  /** The sweep's record (what `<root>/<experiment>/_sweeps/<number>.json` holds). */
  record(): SweepRecord {
    return structuredClone(this.#record);
  }

  /**
   * One row per trial (its latest attempt), best first by the metric: trial, run, status, the
   * space's keys, the metric, duration. In a notebook cell the trials are shown as a table too.
   * @example
   * (await sweep.table()).print();
   */
  async table(): Promise<RunsTable> {
    const byId = new Map(this.runs.map((r) => [r.id, r]));
    const ranked = rankTrials(latestTrials(this.trials), this.goal);
    hostHooks().showTable?.(this.experiment, ranked.map((t) => byId.get(t.run)).filter((r): r is RunRecord => r !== undefined).reverse());
    return sweepTable(this.#record, this.runs);
  }
}
