/**
 * The public face of a run. Each call checks its input and delegates to the run's state
 * (`run-state.ts`), its metrics (`run-metrics.ts`) and its artifacts (`run-artifacts.ts`).
 */
import { LabnoteError, type ArtifactRecord, type CellRecord, type ResourceRecord, type RunRecord, type RunStatus } from "../protocol";
import type { ConfigObject } from "./config/resolve";
import type { SaveOptions } from "./artifacts/formats";
import type { Histogram } from "./metrics/histogram";
import type { EndOptions, RunEnvironment, RunSink } from "./events";
import { isInterrupt, type RunState } from "./run-state";
import { makeProgress, trackIterable, type Progress } from "./progress";
import type { AddFileOptions } from "./run-artifacts";
import { describe } from "../protocol";

const STATE = Symbol.for("labnote.run.state");

/**
 * One run of an experiment: its config, metrics, artifacts and output. Made by
 * `exp.start()` or `exp.run()`. Calls go to the run they are made on, so several runs can
 * be open at once.
 * @example
 * const run = await exp.start({ name: "baseline" });
 * for (let i = 0; i < 100; i++) run.log("loss", 1 / (i + 1));
 * await run.end();
 */
export class Run<C = ConfigObject> {
  /** `<experiment>/<number>` */
  readonly id: string;
  readonly experiment: string;
  readonly number: number;
  readonly name: string;
  readonly tags: readonly string[];
  /** The run's final config, deeply read-only. */
  readonly config: C;
  readonly seed: number;
  /** The run's folder, or undefined for a ghost run. */
  readonly dir: string | undefined;
  readonly startTime: number;
  /** What was captured about the machine, the repository, dependencies and sources. */
  readonly env: RunEnvironment;
  readonly #s: RunState;

  private constructor(state: RunState) {
    const i = state.init;
    this.#s = state;
    this.id = state.id;
    this.experiment = i.experiment;
    this.number = i.number;
    this.name = i.name;
    this.tags = state.view.tags;
    this.config = i.frozenConfig as C;
    this.seed = i.seed;
    this.dir = state.storage.dir;
    this.startTime = state.startTime;
    this.env = i.env;
    // Hosts reach the state by this key, also from another loaded copy of labnote.
    Object.defineProperty(this, STATE, { value: state });
  }

  /** @internal Make the public run of a state. */
  static of<C>(state: RunState): Run<C> {
    return new Run<C>(state);
  }

  /** `running` until the run ends. */
  get status(): RunStatus {
    return this.#s.status;
  }

  /** True once the run has ended. */
  get ended(): boolean {
    return this.#s.status !== "running";
  }

  /**
   * Log one metric point, or several metrics at one step. Without a step, each metric's step
   * counts up from 0. NaN and ±Infinity are kept as they are.
   * @example
   * run.log("loss", 0.42);              // step 0, then 1, 2, …
   * run.log({ loss: 0.4, acc: 0.91 }, 7);
   */
  log(name: string, value: number, step?: number): void;
  log(values: Record<string, number>, step?: number): void;
  log(a: string | Record<string, number>, b?: number, c?: number): void {
    this.#s.metrics.log(a, b, c);
  }

  /**
   * Log whole lists at once: `{ loss: [..], acc: [..] }`, each from its next step on.
   * @example
   * run.logMetrics({ loss: [0.9, 0.7, 0.5] });
   */
  logMetrics(lists: Record<string, ArrayLike<number>>, startStep?: number): void {
    this.#s.metrics.logLists(lists, startStep);
  }

  /**
   * Log the distribution of many values at one step, stored as bucket counts.
   * @example
   * run.logHistogram("weights", weights);
   */
  logHistogram(name: string, values: ArrayLike<number>, step?: number, buckets = 30): Histogram {
    return this.#s.metrics.logHistogram(name, values, step, buckets);
  }

  /** All points of a metric logged so far: steps, values and times (ms since epoch). */
  metric(name: string): { steps: number[]; values: number[]; times: number[] } {
    return this.#s.metrics.points(name);
  }

  /** Names of the metrics logged so far. */
  metricNames(): string[] {
    return this.#s.metrics.names();
  }

  /**
   * A progress bar in the cell output (count, rate, ETA) that advances while a loop runs.
   * Give it an iterable to wrap, or a total to advance by hand.
   * @example
   * for (const batch of run.progress(batches)) train(batch);
   * const p = run.progress(1000); for (…) p.tick(); p.done();
   */
  progress<T>(items: Iterable<T>, options?: { label?: string }): Iterable<T>;
  progress(total: number, options?: { label?: string }): Progress;
  progress<T>(x: Iterable<T> | number, options: { label?: string } = {}): Iterable<T> | Progress {
    const label = options.label ?? this.name;
    if (typeof x === "number") {
      if (!(x >= 0)) throw new LabnoteError("INVALID_VALUE", "Cannot show progress", `the total must be a number ≥ 0, got ${describe(x)}`);
      return makeProgress(this.#s, x, label);
    }
    if (x === null || typeof (x as Iterable<T>)[Symbol.iterator] !== "function")
      throw new LabnoteError("INVALID_VALUE", "Cannot show progress", `expected an iterable or a total, got ${describe(x)}`);
    return trackIterable(this.#s, x, label);
  }

  /**
   * Hand every point logged so far to the sinks now, instead of at the next flush (every
   * 150 ms): the store then writes them in the background; `await run.end()` waits for it.
   */
  flush(): void {
    this.#s.checkOpen("flush");
    this.#s.flush(Date.now(), true);
  }

  /** A float in [0, 1) from the run's seeded generator: the same seed gives the same sequence. */
  random(): number {
    return this.#s.rng();
  }

  /**
   * Save a value as an artifact; the format follows the type (objects → JSON, strings → text,
   * bytes → .bin, typed arrays → .npy, arquero tables → CSV). An existing name gets `_1`, `_2`, ….
   * @example
   * await run.save({ weights: [1, 2] }, "model");   // artifacts/model.json
   * await run.save(new Float32Array(w), "weights"); // artifacts/weights.npy, loads in NumPy
   */
  async save(value: unknown, name?: string, options: SaveOptions = {}): Promise<ArtifactRecord> {
    return this.#s.artifacts.save(value, name, options);
  }

  /**
   * Load an artifact of this run by name: the newest version, or an exact stored name such as
   * `model_1`. Gives back the type that was saved (Map, Set, Date, typed arrays, tables…).
   */
  async load(name: string, options: { version?: number } = {}): Promise<unknown> {
    return this.#s.artifacts.load(name, options.version);
  }

  /** Every artifact and checkpoint saved so far. */
  artifactList(): readonly ArtifactRecord[] {
    return this.#s.artifacts.list;
  }

  /**
   * Copy a file into the run's artifacts with its size and sha256.
   * @example
   * await run.addArtifact("plots/loss.png", { name: "loss-curve", metadata: { dpi: 96 } });
   */
  async addArtifact(file: string, options: AddFileOptions = {}): Promise<ArtifactRecord> {
    return this.#s.artifacts.addFile(file, "artifact", options);
  }

  /** Copy a checkpoint file into the run's `checkpoints/` folder. */
  async addCheckpoint(file: string, options: AddFileOptions = {}): Promise<ArtifactRecord> {
    return this.#s.artifacts.addFile(file, "checkpoint", options);
  }

  /** Record a file the run read (a data set, a vocabulary); stored once across runs by its hash. */
  async addResource(file: string): Promise<ResourceRecord> {
    return this.#s.artifacts.addResource(file);
  }

  /** Attach free-form metadata to the run's record. */
  setMetadata(values: Record<string, unknown>): void {
    this.#s.checkOpen("setMetadata");
    Object.assign(this.#s.init.metadata, values);
    this.#s.beat();
  }

  /** The notebook cells recorded so far. */
  cellList(): readonly CellRecord[] {
    return this.#s.cellList;
  }

  /** Add a sink for this run's events. */
  addSink(sink: RunSink): void {
    this.#s.addSink(sink);
  }

  /** The earlier name of {@link addSink}. @deprecated use addSink */
  addObserver(sink: RunSink): void {
    this.#s.addSink(sink);
  }

  /**
   * End the run: write everything, record its status, duration and result.
   * @example
   * await run.end();                         // completed
   * await run.end({ status: "failed", error });
   */
  async end(options: EndOptions = {}): Promise<RunRecord> {
    return this.#s.end(options);
  }

  /** Mark the run failed with an error (interrupts become `interrupted`). The error is not re-thrown. */
  async fail(error: unknown, endedBy: RunRecord["endedBy"] = "end"): Promise<RunRecord> {
    return this.#s.end({ status: isInterrupt(error) ? "interrupted" : "failed", error, endedBy });
  }

  /** The run's record as it stands now (what `run.json` holds). */
  record(): RunRecord {
    return this.#s.record();
  }
}

/** The state behind a run, for hosts (the kernel, process exit). Works across loaded copies. */
export function runState(run: Run<unknown>): RunState {
  const s = (run as unknown as Record<symbol, RunState | undefined>)[STATE];
  if (!s) throw new LabnoteError("INVALID_VALUE", "Not a labnote run", `got ${describe(run)}`);
  return s;
}

export type { EndOptions };
