import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, checkSegment, csvField, describe, isPlainObject, type ArtifactRecord } from "../protocol";
import { openExperiment } from "../compose";
import { startRunSync, type Captured, type Experiment } from "../core/experiment";
import { runState, type Run } from "../core/run";
import { applyUpdate, cloneConfig, type ConfigObject } from "../core/config/resolve";
import { loadConfig } from "../core/config/load";
import { injectArguments } from "../core/config/inject";

/**
 * The ExperimentManager package's words over labnote: an experiment with a main run that
 * starts on first use, commands that each become a run, and save/logScalar going to the run
 * in progress.
 * @example
 * const xp = createExperiment("mnist", { experimentsDir: "experiments" });
 * xp.addConfig({ lr: 0.1 });
 * const train = xp.command(xp.capture((lr: number) => { xp.logScalar("loss", lr * 2); return lr; }));
 * await train();
 */
export class ManagedExperiment {
  readonly name: string;
  readonly experimentsDir: string;
  readonly ghost: boolean;

  constructor(name: string, options: { experimentsDir?: string; ghost?: boolean } = {}) {
    this.name = checkSegment("experiment", name);
    this.experimentsDir = options.experimentsDir ?? "experiments";
    this.ghost = options.ghost === true;
    this.inner = this.make();
  }

  /** The labnote experiment underneath. */
  get experiment(): Experiment {
    return this.inner;
  }

  /** Merge config into the defaults: an object or a .json/.yaml file. */
  addConfig(config: Record<string, unknown> | string): void {
    const obj = typeof config === "string" ? loadConfig(config) : config;
    if (!isPlainObject(obj)) throw new LabnoteError("INVALID_OPTION", "Cannot add config", `expected an object or a file path, got ${describe(config)}`);
    if (this.inner.openRuns.length) throw new LabnoteError("INVALID_OPTION", "Cannot add config", "a run is in progress; add config before starting runs");
    applyUpdate(this.config, cloneConfig(obj));
    this.inner = this.make();
  }

  /** Fill a function's missing arguments from the config (see Experiment.capture). */
  capture<F extends (...args: any[]) => any>(fn: F, options: { prefix?: string } = {}): Captured<F> {
    return injectArguments(fn, () => this.inner.current?.config ?? this.config, options.prefix) as unknown as Captured<F>;
  }

  /** Turn a function into a command: each call is a run named after the function. */
  command<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, options: { name?: string } = {}): (...args: A) => Promise<R> {
    const name = options.name ?? (fn.name || "command");
    return (...args: A) => this.inner.run(async () => fn(...args), { name });
  }

  /** Save a value into the run in progress (see Run.save). */
  async save(value: unknown, name?: string): Promise<ArtifactRecord> {
    return this.target().save(value, name);
  }

  /** Log one scalar into the run in progress. */
  logScalar(name: string, value: number, step?: number): void {
    this.target().log(name, value, step);
  }

  /**
   * Log several scalars at one step into one table: each as metric `<file>/<header[i]>`, and a
   * row appended to `scalars/<file>.csv` in the run's folder.
   */
  logScalars(file: string, values: number[], header: string[], step?: number): void {
    const run = this.target();
    if (!Array.isArray(values) || !Array.isArray(header) || values.length !== header.length)
      throw new LabnoteError("INVALID_VALUE", `Cannot log scalars to "${file}"`, `values and header must be arrays of the same length (got ${describe(values)} and ${describe(header)})`);
    checkSegment("scalars file", file);
    const s = step ?? (runState(run).metrics.series.get(`${file}/${header[0]}`)?.lastStep ?? -1) + 1;
    const entries: Record<string, number> = {};
    header.forEach((h, i) => (entries[`${file}/${h}`] = values[i]));
    run.log(entries, s);
    if (run.dir) {
      const target = path.join(run.dir, "scalars", `${file}.csv`);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const head = fs.existsSync(target) ? "" : ["step", ...header].map(csvField).join(",") + "\n";
      fs.appendFileSync(target, head + [s, ...values].map(String).join(",") + "\n");
    }
  }

  /** End the main run, if one was started. */
  async end(): Promise<void> {
    const r = this.mainRun;
    this.mainRun = undefined;
    if (r) await r.end();
  }

  private target(): Run {
    const open = this.inner.current;
    if (open) return open;
    this.mainRun = startRunSync(this.inner, { name: "main", span: true });
    return this.mainRun;
  }

  private make(): Experiment {
    const e = openExperiment(this.name, { root: this.experimentsDir, ghost: this.ghost, config: this.config });
    return e;
  }

  private inner: Experiment;
  private mainRun: Run | undefined;
  private readonly config: ConfigObject = {};
}

let current: ManagedExperiment | undefined;

/** Create an experiment and make it the current one (see {@link getExperiment}). */
export function createExperiment(name: string, options: { experimentsDir?: string; ghost?: boolean } = {}): ManagedExperiment {
  current = new ManagedExperiment(name, options);
  return current;
}

/** The experiment made by the last createExperiment(). */
export function getExperiment(): ManagedExperiment {
  if (!current) throw new LabnoteError("NO_ACTIVE_EXPERIMENT", "No experiment", "call createExperiment(name, { experimentsDir }) first");
  return current;
}
