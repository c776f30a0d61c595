import * as path from "node:path";
import { LabnoteError, describe, isPlainObject, checkSegment, parseSweepId, type RunComparison, type RunRecord, type SweepRecord, type SweepSpace } from "../protocol";
import { bestOf, compareOf, type RunRef } from "./compare";
import { readHistory, readRunRecord, parseRunId, runDir, type OnUnreadable } from "../history/read";
import { defaultRoot } from "../history/paths";
import { FinishedRun } from "../history/finished";
import { runsTable, type RunsTable } from "../history/table";
import { closestKey, cloneConfig, flatten, resolveConfig, type ConfigObject } from "./config/resolve";
import { readOnlyView } from "./config/freeze";
import { injectArguments } from "./config/inject";
import { loadConfig } from "./config/load";
import { decodeArtifact, type Saver, type SaverTest } from "./artifacts/formats";
import { hostInfo } from "./capture/host";
import { gitInfo } from "./capture/git";
import { dependencyInfo, findProjectDir } from "./capture/deps";
import { captureSources } from "./capture/sources";
import { sampleSystem } from "./capture/system";
import { newSeed, takePinnedSeed } from "./capture/seed";
import type { RunEnvironment, RunSink } from "./events";
import { Run } from "./run";
import { RunState, isInterrupt } from "./run-state";
import { MemoryRunStorage, type ExperimentStorage, type RunStorage } from "./storage";
import { installProcessHandlers } from "./registry";
import { hostHooks, type ExperimentInfo } from "./hooks";
import { warn } from "./util/warn";
import { runSweep, type SweepHost, type SweepOptions } from "./sweep/run";
import { Sweep } from "./sweep/result";
import { readSweepRecord, readSweeps } from "../history/sweep";

/** What to capture at the start of each run; each can be switched off. */
export interface CaptureOptions {
  /** Project sources (.ts, .js, .json, notebooks), stored once by content hash. Default true. */
  sources?: boolean;
  /** stdout and stderr tee'd to the run's output.log. Default true. */
  output?: boolean;
  /** Hostname, OS, CPU, memory, Node version, user. Default true. */
  host?: boolean;
  /** Commit, branch, dirty, remote. Default true. */
  git?: boolean;
  /** Dependency versions from the project's package.json. Default true. */
  dependencies?: boolean;
  /**
   * In a notebook, the session log: every cell the kernel executed (source, times, outcome),
   * written under the root, and each run's place in it (its lineage). Default true.
   */
  lineage?: boolean;
  /**
   * Every few seconds, the run's process CPU use and resident memory (and each GPU's use where
   * nvidia-smi answers) as `system/…` metrics. Default true.
   */
  system?: boolean;
}

export interface ExperimentOptions<C extends object> {
  /** Store root; default `experiments` beside the notebook, or the LABNOTE_DIR environment variable. */
  root?: string;
  /** Default config, or a path to a .json/.yaml file holding it. */
  config?: C | string;
  /** Named configs applied on request, in the order asked for; each an object or a file path. */
  named?: Record<string, Partial<Record<string, unknown>> | string>;
  /** Write nothing at all: runs live in memory only. */
  ghost?: boolean;
  /** Switch parts of the capture off: `false` turns all off. */
  capture?: CaptureOptions | boolean;
  /** The folder whose sources are captured; default: the nearest folder with a package.json, else the working directory. */
  projectDir?: string;
  /** Extra sinks for every run of this experiment. */
  sinks?: RunSink[];
  /** The earlier name of `sinks`. @deprecated use sinks */
  observers?: RunSink[];
  /** Refuse config keys that the defaults lack (a typo is an error that names the nearest key), instead of a warning. */
  strict?: boolean;
  /** In a notebook, show live run cards in the cell output (default true; LABNOTE_WIDGETS=0 turns them off). */
  widgets?: boolean;
}

export interface StartOptions {
  /** A name for the run; default `run`. Several runs may share a name (re-runs). */
  name?: string;
  /** Updates on top of the defaults and named configs; nested objects or dotted keys. */
  config?: Record<string, unknown>;
  /** Named configs to apply, in order. */
  named?: string[];
  tags?: string[];
  /** Seed for run.random(); default a fresh one (recorded). */
  seed?: number;
  /** Free-form metadata kept in the record. */
  metadata?: Record<string, unknown>;
  /** In a notebook: keep the run open across cells until run.end() (default: the run ends with its cell). */
  span?: boolean;
  /** Extra sinks for this run. */
  sinks?: RunSink[];
  /** The earlier name of `sinks`. @deprecated use sinks */
  observers?: RunSink[];
  /** Show this run's live card in the cell output (default: the experiment's setting). */
  widgets?: boolean;
}

/**
 * A captured function: every parameter may be left out (the config fills it), and an options
 * object may be given in part.
 */
export type Captured<F extends (...args: any[]) => any> = F extends (...args: infer P extends unknown[]) => infer R ? (...args: Loosened<P>) => R : F;

/** Each parameter optional; an options object may be partial. */
export type Loosened<P extends readonly unknown[]> = {
  [K in keyof P]?: P[K] extends readonly unknown[] ? P[K] : P[K] extends (...a: any[]) => any ? P[K] : P[K] extends object ? Partial<P[K]> : P[K];
};

/** Whatever a callback gets and returns. */
export type RunCallback<C, R> = (run: Run<C>) => R | Promise<R>;

/**
 * An experiment: a name, a default config and named configs, and the runs recorded under
 * `<root>/<name>/`. Create one with {@link experiment}.
 */
export class Experiment<C extends object = ConfigObject> {
  readonly name: string;
  /** Absolute path of the store root. */
  readonly root: string;
  readonly ghost: boolean;
  readonly #x: ExperimentState;

  private constructor(name: string, options: ExperimentOptions<C>, storage: ExperimentStorage | undefined) {
    this.name = checkSegment("experiment", name);
    this.ghost = options.ghost === true || storage === undefined;
    this.root = storage?.root ?? path.resolve(options.root ?? defaultRoot());
    this.#x = new ExperimentState(this.name, options, this.ghost ? undefined : storage);
    Object.defineProperty(this, STATE, { value: this.#x });
  }

  /** @internal Open an experiment on a store (none: a ghost experiment) and describe it there. */
  static open<C extends object>(name: string, options: ExperimentOptions<C>, storage: ExperimentStorage | undefined): Experiment<C> {
    if (options === null || typeof options !== "object") throw new LabnoteError("INVALID_OPTION", "Invalid experiment options", `expected an object, got ${describe(options)}`);
    const exp = new Experiment<C>(name, options, storage);
    exp.#x.describe();
    return exp;
  }

  /** The default config, read-only. */
  get defaults(): C {
    return readOnlyView(this.#x.defaults) as C;
  }

  /** The names of the named configs. */
  get namedConfigs(): string[] {
    return Object.keys(this.#x.named);
  }

  /** The newest run of this experiment still open in this process, if any. */
  get current(): Run<C> | undefined {
    const open = this.#x.open;
    return open[open.length - 1] as Run<C> | undefined;
  }

  /** Runs of this experiment open in this process, oldest first. */
  get openRuns(): readonly Run<C>[] {
    return this.#x.open as Run<C>[];
  }

  /**
   * Start a run. End it with `await run.end()`; in a notebook cell it ends with the cell
   * unless `span: true`.
   * @example
   * const run = await exp.start({ name: "baseline", config: { "optimizer.momentum": 0.5 }, named: ["fast"], tags: ["v1"] });
   */
  async start(options: StartOptions = {}): Promise<Run<C>> {
    return this.#x.start(options, "auto") as Run<C>;
  }

  /**
   * Run a function as a run: completed when it returns (its result recorded), failed when it
   * throws (the error recorded and re-thrown), interrupted on SIGINT.
   * @example
   * const acc = await exp.run(async (run) => train(run), { config: { lr: 0.1 } });
   */
  async run<R>(fn: RunCallback<C, R>, options: StartOptions = {}): Promise<R> {
    if (typeof fn !== "function") throw new LabnoteError("INVALID_OPTION", "Invalid run callback", `expected a function, got ${describe(fn)}`);
    const run = this.#x.start(options, "callback") as Run<C>;
    let result: R;
    try {
      result = await fn(run);
    } catch (e) {
      await run.end({ status: isInterrupt(e) ? "interrupted" : "failed", error: e, endedBy: "callback" });
      throw e;
    }
    await run.end({ result, endedBy: "callback" });
    return result;
  }

  /**
   * Run a sweep in this cell: one trial after another, each a run of this experiment with the
   * trial's values as config updates, tagged with the sweep's id; a failing trial is recorded
   * and the sweep goes on (unless `stopOnError`). Running the same sweep again (same name, or
   * without a name the same space and strategy) resumes the latest unfinished one; `resume:
   * false` starts a new one. In a notebook, one card shows the whole sweep.
   * @example
   * const grid = await exp.sweep({ lr: [0.1, 0.01], "model.hidden": [16, 32] }, async (run) => train(run), { metric: "val_loss", goal: "min", name: "lr-hidden" });
   * const rand = await exp.sweep({ lr: { random: "log-uniform", min: 1e-4, max: 1e-1 } }, train, { strategy: "random", trials: 20, seed: 7, metric: "val_loss" });
   * grid.best?.params; grid.runs; await grid.table();
   */
  async sweep<R>(space: SweepSpace, fn: RunCallback<C, R>, options: SweepOptions = {}): Promise<Sweep<C>> {
    return (await runSweep(this.#x.sweepHost(), space, fn, options)) as unknown as Sweep<C>;
  }

  /**
   * Reopen a sweep by id (`"mnist/sweep-2"`, `"sweep-2"` or `2`): its record, trial runs, best
   * trial and table.
   */
  async getSweep(id: string | number): Promise<Sweep<C>> {
    if (this.ghost) throw new LabnoteError("UNSUPPORTED", `Cannot reopen sweep ${id}`, "a ghost experiment writes nothing to read back");
    const n = parseSweepId(this.name, id);
    const r = readSweepRecord(this.root, this.name, n);
    if (!r.ok) throw new LabnoteError("NOT_FOUND", `No sweep ${this.name}/sweep-${n}`, `${r.file}: ${r.reason}`);
    const host = this.#x.sweepHost();
    const runs = r.record.runs.map((t) => host.readRun(t.run)).filter((x): x is RunRecord => x !== undefined);
    return new Sweep<C>(r.record, runs);
  }

  /** The records of this experiment's sweeps, oldest first. */
  async sweeps(): Promise<SweepRecord[]> {
    return this.ghost ? [] : readSweeps(this.root, this.name);
  }

  /**
   * Every run's record, oldest first, without reading metric points. A run whose record cannot
   * be read is skipped with one line on stderr that names it and says what is wrong.
   */
  async history(): Promise<RunRecord[]> {
    return this.#x.history();
  }

  /** An arquero table with one row per run: id, status, times, config columns, metric summaries. */
  async runs(): Promise<RunsTable> {
    return runsTable(await this.history());
  }

  /**
   * Show the runs as a table in the cell output (status, duration, config, metric summaries)
   * and return the same table.
   */
  async table(): Promise<RunsTable> {
    const records = await this.history();
    hostHooks().showTable?.(this.name, records);
    return runsTable(records);
  }

  /**
   * In a notebook: store a snapshot of the saved notebook file (outputs included) in the
   * history, and link every run of this kernel session under this store to it. Exporting again
   * with nothing changed stores nothing new. `path` names the notebook when the kernel cannot
   * tell (JupyterLab tells it).
   * @example
   * const { snapshot, runs } = await exp.exportNotebook();
   */
  async exportNotebook(options: { path?: string } = {}): Promise<{ snapshot: string; runs: string[] }> {
    if (this.ghost) throw new LabnoteError("UNSUPPORTED", "Cannot export the notebook", "a ghost experiment writes nothing");
    const hook = hostHooks().exportNotebook;
    if (!hook) throw new LabnoteError("UNSUPPORTED", "Cannot export the notebook", "exportNotebook() works in a tslab notebook cell, where the kernel knows the notebook");
    return hook(this.#x.info(), options ?? {});
  }

  /**
   * The record of the finished (completed) run whose last value of `metric` is lowest
   * (`"min"`, the default) or highest (`"max"`); undefined when no completed run has a value.
   * @example
   * const best = await exp.best("val/acc", "max"); best?.config
   */
  async best(metric: string, mode: "min" | "max" = "min"): Promise<RunRecord | undefined> {
    return bestOf(await this.history(), this.name, metric, mode);
  }

  /**
   * Compare runs: the config keys that differ, metric summaries side by side, and how their code
   * differs (cells and line diffs, each run against the first). In a notebook cell it is shown
   * as a table too.
   * @example
   * const { config, metrics, cells } = await exp.compare("mnist/1", "mnist/2");
   */
  async compare(...runs: RunRef[]): Promise<RunComparison> {
    if (this.ghost) throw new LabnoteError("UNSUPPORTED", "Cannot compare runs", "a ghost experiment writes nothing to read back");
    const c = compareOf(this.root, this.name, runs);
    hostHooks().showComparison?.(c);
    return c;
  }

  /**
   * Reopen a run read-only by id (`"mnist/3"` or `3`).
   * @example
   * const again = await exp.getRun(run.id); again.metric("loss"); await again.load("model");
   */
  async getRun(id: string | number): Promise<FinishedRun<C>> {
    if (this.ghost) throw new LabnoteError("UNSUPPORTED", `Cannot reopen run ${id}`, "a ghost experiment writes nothing to read back");
    const n = parseRunId(this.name, id);
    const r = readRunRecord(this.root, this.name, n);
    if (!r.ok) throw new LabnoteError("NOT_FOUND", `No run ${this.name}/${n}`, `${r.file}: ${r.reason}`);
    const savers = this.#x.savers;
    return FinishedRun.open<C>(r.record, runDir(this.root, this.name, n), this.root, (rec, data) => decodeArtifact(rec, data, savers), (c) => readOnlyView(c as object));
  }

  /**
   * Wrap a function so that its missing arguments come from the open run's config (or the
   * defaults when none is open): by parameter name, or by property of one options object.
   * @example
   * const train = exp.capture((lr: number, epochs: number) => …);
   * train();          // lr and epochs from the config
   * train(0.5);       // explicit arguments win
   */
  capture<F extends (...args: any[]) => any>(fn: F, options: { prefix?: string } = {}): Captured<F> {
    if (typeof fn !== "function") throw new LabnoteError("INVALID_OPTION", "Cannot capture", `expected a function, got ${describe(fn)}`);
    return injectArguments(fn, () => this.current?.config ?? this.#x.defaults, options.prefix) as unknown as Captured<F>;
  }

  /**
   * Teach save()/load() a new type. Custom savers are tried before the built-in ones.
   * @example
   * exp.addSaver((v) => v instanceof Matrix, { format: "matrix", ext: ".json", write: (m) => JSON.stringify(m.toJSON()), read: (b) => Matrix.fromJSON(JSON.parse(b.toString())) });
   */
  addSaver(test: SaverTest, saver: Saver): void {
    if (typeof test !== "function" || !saver || typeof saver.write !== "function" || typeof saver.read !== "function" || typeof saver.format !== "string" || typeof saver.ext !== "string")
      throw new LabnoteError("INVALID_OPTION", "Invalid saver", "expected addSaver(test, { format, ext, write(value), read(buffer) })");
    this.#x.savers.unshift([test, saver]);
  }

  /** Add a sink for every run started from now on. */
  addSink(sink: RunSink): void {
    this.#x.sinks.push(sink);
  }

  /** The earlier name of {@link addSink}. @deprecated use addSink */
  addObserver(sink: RunSink): void {
    this.#x.sinks.push(sink);
  }

  /**
   * Add a field to the host information of every run.
   * @example
   * exp.addHostInfo("gpu", () => "none");
   */
  addHostInfo(name: string, getter: () => unknown): void {
    if (typeof getter !== "function") throw new LabnoteError("INVALID_OPTION", `Invalid host-info getter "${name}"`, "expected a function");
    this.#x.hostGetters.set(name, getter);
  }
}

const STATE = Symbol.for("labnote.experiment.state");

/**
 * Start a run without awaiting (for synchronous APIs layered on labnote): the same as
 * `exp.start()`.
 */
export function startRunSync<C extends object>(exp: Experiment<C>, options: StartOptions = {}): Run<C> {
  const x = (exp as unknown as Record<symbol, ExperimentState | undefined>)[STATE];
  if (!x) throw new LabnoteError("INVALID_VALUE", "Not a labnote experiment", `got ${describe(exp)}`);
  return x.start(options, "auto") as Run<C>;
}

/** An experiment's state and the rules for starting its runs. */
class ExperimentState {
  readonly defaults: ConfigObject;
  readonly named: Record<string, ConfigObject> = {};
  readonly savers: [SaverTest, Saver][] = [];
  readonly sinks: RunSink[];
  readonly hostGetters = new Map<string, () => unknown>();
  readonly open: Run<unknown>[] = [];

  constructor(name: string, options: ExperimentOptions<object>, storage: ExperimentStorage | undefined) {
    this.name = name;
    this.storage = storage;
    this.defaults = typeof options.config === "string" ? loadConfig(options.config) : cloneConfig((options.config ?? {}) as ConfigObject);
    if (!isPlainObject(this.defaults)) throw new LabnoteError("INVALID_OPTION", `Invalid config for experiment "${name}"`, `expected a plain object, got ${describe(options.config)}`);
    for (const [k, v] of Object.entries(options.named ?? {})) {
      const obj = typeof v === "string" ? loadConfig(v) : v;
      if (!isPlainObject(obj)) throw new LabnoteError("INVALID_OPTION", `Invalid named config "${k}"`, `expected an object or a file path, got ${describe(v)}`);
      this.named[k] = cloneConfig(obj);
    }
    const cap = options.capture;
    const on = (part: keyof CaptureOptions): boolean => (typeof cap === "object" ? cap[part] !== false : cap !== false);
    this.capture = { sources: on("sources"), output: on("output"), host: on("host"), git: on("git"), dependencies: on("dependencies"), lineage: on("lineage"), system: on("system") };
    this.describes = options.config !== undefined || options.named !== undefined;
    this.strict = options.strict === true;
    this.projectDir = path.resolve(options.projectDir ?? findProjectDir(process.cwd()) ?? process.cwd());
    this.sinks = [...(options.sinks ?? []), ...(options.observers ?? [])];
    this.widgets = options.widgets ?? !["0", "false", "off", "no"].includes((process.env.LABNOTE_WIDGETS ?? "").toLowerCase());
  }

  /** Write experiment.json; an open that gives no config keeps the file as it is. */
  describe(): void {
    this.storage?.describe(this.name, { name: this.name, format: 1, config: this.defaults, named: this.named, updated: Date.now() }, !this.describes);
  }

  /** What a sweep needs of this experiment. */
  sweepHost(): SweepHost {
    return {
      name: this.name,
      storage: this.storage,
      widgets: this.widgets,
      start: (options, noted) => this.start(options, "callback", noted),
      readRun: (id) => {
        const n = Number(id.slice(id.lastIndexOf("/") + 1));
        if (!this.storage) return this.ghostRuns.find((r) => r.init.number === n)?.record();
        const r = readRunRecord(this.storage.root, this.name, n);
        return r.ok ? r.record : undefined;
      },
      readSweeps: () => (this.storage ? readSweeps(this.storage.root, this.name) : []),
      sinks: this.sinks,
    };
  }

  /** Make, register and begin a run; `scope` says what ends it; config keys in `noted` were warned about already (a sweep's trials). */
  start(options: StartOptions, scope: "auto" | "callback", noted?: Set<string>): Run<unknown> {
    if (options === null || typeof options !== "object") throw new LabnoteError("INVALID_OPTION", "Invalid run options", `expected an object, got ${describe(options)}`);
    const name = options.name ?? "run";
    if (typeof name !== "string" || !name || name.length > 200 || /[\u0000-\u001f]/.test(name))
      throw new LabnoteError("INVALID_NAME", "Invalid run name", `expected a short string without control characters, got ${describe(name)}`);
    const tags = options.tags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) throw new LabnoteError("INVALID_OPTION", "Invalid tags", "expected an array of strings");
    const named = options.named ?? [];
    const resolved = resolveConfig(this.defaults, this.named, named, options.config);
    const added = noted ? resolved.added.filter((k) => !noted.has(k)) : resolved.added;
    if (added.length) this.checkAdded(added);
    for (const k of added) noted?.add(k);
    // A pin (see pinSeeds) is used up by the run it names even when an explicit seed wins.
    const pinned = takePinnedSeed(this.name, name);
    const seed = options.seed ?? pinned ?? (typeof this.defaults.seed === "number" ? (resolved.config.seed as number) : newSeed());
    if (!Number.isInteger(seed)) throw new LabnoteError("INVALID_OPTION", "Invalid seed", `expected an integer, got ${describe(seed)}`);

    const env: RunEnvironment = {};
    let gitDirty: Promise<void> | undefined;
    if (this.capture.host) env.host = { ...hostInfo(), ...this.customHost() };
    if (this.capture.git) {
      const g = gitInfo(this.projectDir);
      if (g) {
        env.git = g.info;
        gitDirty = g.dirty;
      }
    }
    if (this.capture.dependencies) env.dependencies = dependencyInfo(this.projectDir);

    let number: number;
    let storage: RunStorage;
    if (!this.storage) {
      number = ++this.ghostCount;
      storage = new MemoryRunStorage();
    } else {
      ({ number, storage } = this.storage.allocateRun(this.name));
      if (this.capture.sources) env.sources = { projectDir: this.projectDir, ...captureSources(this.projectDir, this.storage.root, this.storage) };
    }
    const hooks = hostHooks();
    const context = hooks.context?.({ name: this.name }, { name, span: options.span === true });
    const state = new RunState({
      experiment: this.name,
      number,
      name,
      tags,
      config: resolved.config,
      frozenConfig: readOnlyView(resolved.config),
      modified: resolved.modified,
      added: resolved.added,
      named: [...named],
      seed,
      metadata: { ...(options.metadata ?? {}) },
      storage,
      sinks: [...this.sinks, ...(options.sinks ?? []), ...(options.observers ?? [])],
      savers: this.savers,
      env,
      gitDirty,
      captureOutput: this.capture.output,
      rerunOf: context?.rerunOf,
      notebook: context?.notebook,
    });
    const run = Run.of<unknown>(state);
    installProcessHandlers();
    if (!this.storage) this.ghostRuns.push(state);
    this.open.push(run);
    state.addSink({ ended: () => this.open.splice(this.open.indexOf(run), 1) });
    if (this.capture.system && storage.dir !== undefined) {
      const stop = sampleSystem((values, step) => run.log(values, step));
      state.addSink({ ended: stop });
    }
    state.begin();
    hooks.started?.(this.info(), run, { span: options.span === true, callback: scope === "callback", widgets: options.widgets ?? this.widgets });
    return run;
  }

  /** What a host is told of this experiment. */
  info(): ExperimentInfo {
    return { name: this.name, root: this.storage?.root, lineage: this.capture.lineage };
  }

  /** Every run's record, oldest first. */
  history(onUnreadable?: OnUnreadable): RunRecord[] {
    if (!this.storage) return this.ghostRuns.map((r) => r.record());
    return readHistory(this.storage.root, this.name, onUnreadable);
  }

  /** Keys the defaults lack: an error when strict, else a note (one for a config with no defaults at all). */
  private checkAdded(added: string[]): void {
    const known = Object.keys(flatten(this.defaults));
    if (this.strict) {
      const k = added[0];
      const near = closestKey(k, known);
      throw new LabnoteError(
        "CONFIG_UNKNOWN_KEY",
        `Config key "${k}" is not in the defaults of experiment "${this.name}"`,
        near ? `did you mean "${near}"? (strict: true refuses keys the defaults lack)` : `the defaults have ${known.length ? known.map((x) => `"${x}"`).join(", ") : "no keys"}; add it to the experiment's config, or drop strict: true`,
      );
    }
    if (known.length === 0) {
      if (!this.notedNoDefaults) warn(`labnote: experiment "${this.name}" has no default config, so every config key is recorded as added (give experiment(name, { config }) defaults to track modified keys).`);
      this.notedNoDefaults = true;
      return;
    }
    for (const k of added) {
      const near = closestKey(k, known);
      warn(`labnote: config key "${k}" is not in the defaults of experiment "${this.name}"; it was added to this run${near ? ` (did you mean "${near}"?)` : ""}.`);
    }
  }

  private customHost(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, g] of this.hostGetters) {
      try {
        out[k] = g();
      } catch (e) {
        out[k] = `error: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    return out;
  }

  private readonly name: string;
  private readonly storage: ExperimentStorage | undefined;
  private readonly capture: Required<CaptureOptions>;
  private readonly projectDir: string;
  private readonly widgets: boolean;
  private readonly describes: boolean;
  private readonly strict: boolean;
  private readonly ghostRuns: RunState[] = [];
  private ghostCount = 0;
  private notedNoDefaults = false;
}
