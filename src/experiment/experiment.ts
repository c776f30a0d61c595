import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError } from "../errors";
import { closestKey, cloneConfig, flatten, resolveConfig, type ConfigObject } from "../config/resolve";
import { readOnlyView } from "../config/freeze";
import { injectArguments } from "../config/inject";
import { loadConfig } from "../config/load";
import type { Saver, SaverTest } from "../artifacts/formats";
import { hostInfo } from "../capture/host";
import { gitInfo } from "../capture/git";
import { dependencyInfo, findProjectDir } from "../capture/deps";
import { captureSources } from "../capture/sources";
import { newSeed } from "../capture/seed";
import { FileStore, defaultRoot } from "../store/store";
import { FileObserver } from "../store/observer";
import { readHistory, readRunRecord, parseRunId } from "../history/read";
import { FinishedRun } from "../history/finished";
import { runsTable, type RunsTable } from "../history/table";
import { displayTable } from "../display/table";
import { Run, isInterrupt, type RunEnvironment } from "../run/run";
import type { RunObserver } from "../run/observer";
import type { RunRecord } from "../run/types";
import { installProcessHandlers } from "../run/registry";
import { runHooks } from "../run/hooks";
import { isPlainObject } from "../util/json";
import { checkSegment, describe } from "../util/names";
import { warn } from "../util/warn";

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
  observers?: RunObserver[];
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
  observers?: RunObserver[];
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

  constructor(name: string, options: ExperimentOptions<C>) {
    this.name = checkSegment("experiment", name);
    this.root = path.resolve(options.root ?? defaultRoot());
    this.ghost = options.ghost === true;
    this.store = new FileStore(this.root);
    this.defaultsObj = typeof options.config === "string" ? loadConfig(options.config) : cloneConfig((options.config ?? {}) as ConfigObject);
    if (!isPlainObject(this.defaultsObj)) throw new LabnoteError("INVALID_OPTION", `Invalid config for experiment "${name}"`, `expected a plain object, got ${describe(options.config)}`);
    for (const [k, v] of Object.entries(options.named ?? {})) {
      const obj = typeof v === "string" ? loadConfig(v) : v;
      if (!isPlainObject(obj)) throw new LabnoteError("INVALID_OPTION", `Invalid named config "${k}"`, `expected an object or a file path, got ${describe(v)}`);
      this.namedObj[k] = cloneConfig(obj);
    }
    const cap = options.capture;
    const on = (part: keyof CaptureOptions): boolean => (typeof cap === "object" ? cap[part] !== false : cap !== false);
    this.captureOpts = { sources: on("sources"), output: on("output"), host: on("host"), git: on("git"), dependencies: on("dependencies") };
    this.describes = options.config !== undefined || options.named !== undefined;
    this.projectDir = path.resolve(options.projectDir ?? findProjectDir(process.cwd()) ?? process.cwd());
    this.observers = options.observers ?? [];
    this.widgets = options.widgets ?? !["0", "false", "off", "no"].includes((process.env.LABNOTE_WIDGETS ?? "").toLowerCase());
  }

  /** Internal: write experiment.json (unless ghost); an open that gives no config keeps the file as it is. */
  init(): void {
    if (this.ghost) return;
    if (!this.describes && fs.existsSync(path.join(this.store.experimentDir(this.name), "experiment.json"))) return;
    this.store.initExperiment(this.name, { name: this.name, format: 1, config: this.defaultsObj, named: this.namedObj, updated: Date.now() });
  }

  /** The default config, read-only. */
  get defaults(): C {
    return readOnlyView(this.defaultsObj) as C;
  }

  /** The names of the named configs. */
  get namedConfigs(): string[] {
    return Object.keys(this.namedObj);
  }

  /** The newest run of this experiment still open in this process, if any. */
  get current(): Run<C> | undefined {
    return this.open[this.open.length - 1];
  }

  /** Runs of this experiment open in this process, oldest first. */
  get openRuns(): readonly Run<C>[] {
    return this.open;
  }

  /**
   * Start a run. End it with `await run.end()`; in a notebook cell it ends with the cell
   * unless `span: true`.
   * @example
   * const run = await exp.start({ name: "baseline", config: { "optimizer.momentum": 0.5 }, named: ["fast"], tags: ["v1"] });
   */
  async start(options: StartOptions = {}): Promise<Run<C>> {
    return this.startSync(options);
  }

  /** Internal: start synchronously (the same as start()); `scope` says what ends the run. */
  startSync(options: StartOptions = {}, scope: "auto" | "callback" = "auto"): Run<C> {
    if (options === null || typeof options !== "object") throw new LabnoteError("INVALID_OPTION", "Invalid run options", `expected an object, got ${describe(options)}`);
    const name = options.name ?? "run";
    if (typeof name !== "string" || !name || name.length > 200 || /[\u0000-\u001f]/.test(name))
      throw new LabnoteError("INVALID_NAME", "Invalid run name", `expected a short string without control characters, got ${describe(name)}`);
    const tags = options.tags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === "string")) throw new LabnoteError("INVALID_OPTION", "Invalid tags", "expected an array of strings");
    const named = options.named ?? [];
    const resolved = resolveConfig(this.defaultsObj, this.namedObj, named, options.config);
    if (resolved.added.length) {
      const known = Object.keys(flatten(this.defaultsObj));
      for (const k of resolved.added) {
        const near = closestKey(k, known);
        warn(`labnote: config key "${k}" is not in the defaults of experiment "${this.name}"; it was added to this run${near ? ` (did you mean "${near}"?)` : ""}.`);
      }
    }
    const seed = options.seed ?? (typeof this.defaultsObj["seed" as keyof typeof this.defaultsObj] === "number" ? (resolved.config.seed as number) : newSeed());
    if (!Number.isInteger(seed)) throw new LabnoteError("INVALID_OPTION", "Invalid seed", `expected an integer, got ${describe(seed)}`);

    const env: RunEnvironment = {};
    let gitDirty: Promise<void> | undefined;
    if (this.captureOpts.host) env.host = { ...hostInfo(), ...this.customHost() };
    if (this.captureOpts.git) {
      const g = gitInfo(this.projectDir);
      if (g) {
        env.git = g.info;
        gitDirty = g.dirty;
      }
    }
    if (this.captureOpts.dependencies) env.dependencies = dependencyInfo(this.projectDir);

    let number: number;
    let dir: string | undefined;
    const observers: RunObserver[] = [];
    if (this.ghost) number = ++this.ghostCount;
    else {
      if (!this.initialized) {
        this.init();
        this.initialized = true;
      }
      ({ number, dir } = this.store.allocateRun(this.name));
      if (this.captureOpts.sources) env.sources = { projectDir: this.projectDir, ...captureSources(this.projectDir, this.store) };
      observers.push(new FileObserver(dir));
    }
    observers.push(...this.observers, ...(options.observers ?? []));
    const hooks = runHooks();
    const context = hooks.context?.(this as Experiment<object>, { name, span: options.span === true });
    const run = new Run<C>({
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
      dir,
      store: this.ghost ? undefined : this.store,
      observers,
      savers: this.savers,
      env,
      gitDirty,
      captureOutput: this.captureOpts.output,
      rerunOf: context?.rerunOf,
      notebook: context?.notebook,
    });
    installProcessHandlers();
    if (this.ghost) this.ghostRuns.push(run);
    this.open.push(run);
    run.addObserver({ ended: () => this.open.splice(this.open.indexOf(run), 1) });
    run.begin();
    hooks.started?.(this as Experiment<object>, run as Run<unknown>, { span: options.span === true, callback: scope === "callback", widgets: options.widgets ?? this.widgets });
    return run;
  }

  /**
   * Run a function as a run: completed when it returns (its result recorded), failed when it
   * throws (the error recorded and re-thrown), interrupted on SIGINT.
   * @example
   * const acc = await exp.run(async (run) => train(run), { config: { lr: 0.1 } });
   */
  async run<R>(fn: RunCallback<C, R>, options: StartOptions = {}): Promise<R> {
    if (typeof fn !== "function") throw new LabnoteError("INVALID_OPTION", "Invalid run callback", `expected a function, got ${describe(fn)}`);
    const run = this.startSync(options, "callback");
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

  /** Every run's record, oldest first, without reading metric points. */
  async history(): Promise<RunRecord[]> {
    if (this.ghost) return this.ghostRecords();
    return readHistory(this.store, this.name);
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
    displayTable(this.name, records);
    return runsTable(records);
  }

  /**
   * Reopen a run read-only by id (`"mnist/3"` or `3`).
   * @example
   * const again = await exp.getRun(run.id); again.metric("loss"); await again.load("model");
   */
  async getRun(id: string | number): Promise<FinishedRun<C>> {
    if (this.ghost) throw new LabnoteError("UNSUPPORTED", `Cannot reopen run ${id}`, "a ghost experiment writes nothing to read back");
    const n = parseRunId(this.name, id);
    const rec = readRunRecord(this.store, this.name, n);
    if (!rec) throw new LabnoteError("NOT_FOUND", `No run ${this.name}/${n}`, `there is no readable ${path.join(this.store.runDir(this.name, n), "run.json")}`);
    return new FinishedRun<C>(rec, this.store.runDir(this.name, n), this.store, this.savers);
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
    return injectArguments(fn, () => this.current?.config ?? this.defaultsObj, options.prefix) as unknown as Captured<F>;
  }

  /**
   * Teach save()/load() a new type. Custom savers are tried before the built-in ones.
   * @example
   * exp.addSaver((v) => v instanceof Matrix, { format: "matrix", ext: ".json", write: (m) => JSON.stringify(m.toJSON()), read: (b) => Matrix.fromJSON(JSON.parse(b.toString())) });
   */
  addSaver(test: SaverTest, saver: Saver): void {
    if (typeof test !== "function" || !saver || typeof saver.write !== "function" || typeof saver.read !== "function" || typeof saver.format !== "string" || typeof saver.ext !== "string")
      throw new LabnoteError("INVALID_OPTION", "Invalid saver", "expected addSaver(test, { format, ext, write(value), read(buffer) })");
    this.savers.unshift([test, saver]);
  }

  /** Add a sink for every run started from now on. */
  addObserver(observer: RunObserver): void {
    this.observers.push(observer);
  }

  /**
   * Add a field to the host information of every run.
   * @example
   * exp.addHostInfo("gpu", () => "none");
   */
  addHostInfo(name: string, getter: () => unknown): void {
    if (typeof getter !== "function") throw new LabnoteError("INVALID_OPTION", `Invalid host-info getter "${name}"`, "expected a function");
    this.hostGetters.set(name, getter);
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

  private ghostRecords(): RunRecord[] {
    return this.ghostRuns.map((r) => r.record());
  }

  private readonly store: FileStore;
  private readonly defaultsObj: ConfigObject;
  private readonly namedObj: Record<string, ConfigObject> = {};
  private readonly captureOpts: Required<CaptureOptions>;
  private readonly projectDir: string;
  private readonly observers: RunObserver[];
  private readonly widgets: boolean;
  private readonly describes: boolean;
  private readonly savers: [SaverTest, Saver][] = [];
  private readonly hostGetters = new Map<string, () => unknown>();
  private readonly open: Run<C>[] = [];
  private readonly ghostRuns: Run<C>[] = [];
  private ghostCount = 0;
  private initialized = false;
}

/**
 * Open (or create) an experiment under the store root.
 * @example
 * const exp = await experiment("mnist", { config: { lr: 0.01, epochs: 10 }, named: { fast: { epochs: 1 } } });
 */
export async function experiment<C extends object = ConfigObject>(name: string, options: ExperimentOptions<C> = {}): Promise<Experiment<C>> {
  if (options === null || typeof options !== "object") throw new LabnoteError("INVALID_OPTION", "Invalid experiment options", `expected an object, got ${describe(options)}`);
  const exp = new Experiment<C>(name, options);
  exp.init();
  return exp;
}
