import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, isLabnoteError, storeError } from "../errors";
import type { ConfigObject } from "../config/resolve";
import { bucketize, type Histogram } from "../metrics/histogram";
import { Series } from "../metrics/series";
import { pickSaver, saverFor, typeName, mediaTypeOf, type SaveOptions, type Saver, type SaverTest } from "../artifacts/formats";
import { seededRandom } from "../capture/seed";
import { captureOutput } from "../capture/output";
import type { GitInfo } from "../capture/git";
import type { HostInfo } from "../capture/host";
import type { DependencyInfo } from "../capture/deps";
import type { SourceEntry } from "../capture/sources";
import { copyHashed, sha256, type FileStore } from "../store/store";
import { ensureDir, writeAtomic } from "../store/atomic";
import { checkRelativePath, describe, inside } from "../util/names";
import { recordJson } from "../util/json";
import type { MetricBatch, RunObserver } from "./observer";
import type { ArtifactRecord, CellRecord, ResourceRecord, RunRecord, RunStatus } from "./types";
import { openRuns } from "./registry";
import { warn } from "../util/warn";
import { makeProgress, trackIterable, type Progress } from "../display/progress";

/** How often buffered metric points are handed to the observers (and so written). */
export const FLUSH_MS = 200;
/** A metric with this many points not yet handed over is flushed at once. */
export const FLUSH_POINTS = 65_536;
/** How often an open run proves it is alive. */
export const HEARTBEAT_MS = 5_000;

/** What a run captured about where it ran. */
export interface RunEnvironment {
  host?: HostInfo;
  git?: GitInfo;
  dependencies?: DependencyInfo;
  sources?: { projectDir: string; files: SourceEntry[]; skipped: string[] };
}

/** Internal: everything a Run is made from. Experiments build these. */
export interface RunInit {
  experiment: string;
  number: number;
  name: string;
  tags: string[];
  config: ConfigObject;
  frozenConfig: unknown;
  modified: string[];
  added: string[];
  named: string[];
  seed: number;
  metadata: Record<string, unknown>;
  dir?: string;
  store?: FileStore;
  observers: RunObserver[];
  savers: [SaverTest, Saver][];
  env: RunEnvironment;
  gitDirty?: Promise<void>;
  captureOutput: boolean;
  rerunOf?: string;
  notebook?: string;
}

export interface EndOptions {
  status?: Exclude<RunStatus, "running" | "died">;
  result?: unknown;
  error?: unknown;
  endedBy?: RunRecord["endedBy"];
}

/** Ways to describe a cell-based interrupt, from tslab and from plain Node. */
export function isInterrupt(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : typeof e === "string" ? e : "";
  return /Interrupted asynchronously|interrupted by SIGINT/i.test(msg) || (e as { code?: unknown })?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED";
}

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

  constructor(init: RunInit) {
    this.experiment = init.experiment;
    this.number = init.number;
    this.id = `${init.experiment}/${init.number}`;
    this.name = init.name;
    this.tags = Object.freeze([...init.tags]);
    this.config = init.frozenConfig as C;
    this.seed = init.seed;
    this.dir = init.dir;
    this.env = init.env;
    this.startTime = Date.now();
    this.init = init;
    this.lastFlush = this.startTime;
    this.lastBeat = this.startTime;
    this.rng = seededRandom(init.seed);
    this.observers = init.observers;
  }

  /** `running` until the run ends. */
  get status(): RunStatus {
    return this._status;
  }

  /** True once the run has ended. */
  get ended(): boolean {
    return this._status !== "running";
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
    if (this._status !== "running") throw this.endedError("log");
    if (this.pendingError) this.throwPending();
    const t = Date.now();
    if (typeof a === "string") {
      if (typeof b !== "number") throw badValue(a, b);
      let s = a === this.lastName ? this.lastSeries! : this.series.get(a);
      if (s === undefined) s = this.addSeries(a);
      this.lastName = a;
      this.lastSeries = s;
      s.push(c === undefined ? s.lastStep + 1 : checkStep(a, c), b, t);
      // Hand over in bounded batches, so no single flush (or its backpressure) is long.
      if (s.count - s.flushed >= FLUSH_POINTS) return this.flush(t);
    } else {
      if (typeof a !== "object" || a === null) throw new LabnoteError("INVALID_VALUE", "Cannot log", `expected a metric name and a number, or an object of numbers; got ${describe(a)}`);
      const step = b;
      const entries = Object.entries(a);
      for (const [k, v] of entries) if (typeof v !== "number") throw badValue(k, v);
      for (const [k, v] of entries) {
        const s = this.series.get(k) ?? this.addSeries(k);
        s.push(step === undefined ? s.lastStep + 1 : checkStep(k, step), v, t);
      }
    }
    if (t - this.lastFlush >= FLUSH_MS) this.flush(t);
  }

  /**
   * Log whole lists at once: `{ loss: [..], acc: [..] }`, each from its next step on.
   * @example
   * run.logMetrics({ loss: [0.9, 0.7, 0.5] });
   */
  logMetrics(lists: Record<string, ArrayLike<number>>, startStep?: number): void {
    if (this._status !== "running") throw this.endedError("logMetrics");
    if (typeof lists !== "object" || lists === null) throw new LabnoteError("INVALID_VALUE", "Cannot log metrics", "expected an object of lists, e.g. { loss: [0.9, 0.7] }");
    for (const [k, list] of Object.entries(lists)) {
      if (list === null || typeof list !== "object" || typeof list.length !== "number")
        throw new LabnoteError("INVALID_VALUE", `Cannot log metric "${k}"`, `expected a list of numbers, got ${describe(list)}`);
      for (let i = 0; i < list.length; i++) if (typeof list[i] !== "number") throw badValue(`${k}[${i}]`, list[i]);
    }
    for (const [k, list] of Object.entries(lists)) for (let i = 0; i < list.length; i++) this.log(k, list[i], startStep === undefined ? undefined : startStep + i);
  }

  /**
   * Log the distribution of many values at one step, stored as bucket counts.
   * @example
   * run.logHistogram("weights", weights);
   */
  logHistogram(name: string, values: ArrayLike<number>, step?: number, buckets = 30): Histogram {
    if (this._status !== "running") throw this.endedError("logHistogram");
    checkMetricName(name);
    const prev = this.histogramSteps.get(name) ?? -1;
    const s = step === undefined ? prev + 1 : checkStep(name, step);
    const h = bucketize(name, values, s, buckets);
    this.histogramSteps.set(name, s);
    this.notify("histogram", h);
    return h;
  }

  /** All points of a metric logged so far: steps, values and times (ms since epoch). */
  metric(name: string): { steps: number[]; values: number[]; times: number[] } {
    const s = this.series.get(name);
    if (!s) throw new LabnoteError("NOT_FOUND", `No metric "${name}" in run ${this.id}`, this.metricNames().length ? `it has ${this.metricNames().map((m) => `"${m}"`).join(", ")}` : "nothing was logged yet");
    const { steps, values, times } = s.toArrays();
    return { steps: Array.from(steps), values: Array.from(values), times: Array.from(times) };
  }

  /** Names of the metrics logged so far. */
  metricNames(): string[] {
    return [...this.series.keys()];
  }

  /** The live series of a metric, for observers (widgets) that downsample without copying. */
  seriesOf(name: string): Series | undefined {
    return this.series.get(name);
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
      return makeProgress(x, label, this.id);
    }
    if (x === null || typeof (x as Iterable<T>)[Symbol.iterator] !== "function")
      throw new LabnoteError("INVALID_VALUE", "Cannot show progress", `expected an iterable or a total, got ${describe(x)}`);
    return trackIterable(x, label, this.id);
  }

  /** A float in [0, 1) from the run's seeded generator: the same seed gives the same sequence. */
  random(): number {
    return this.rng();
  }

  /**
   * Save a value as an artifact; the format follows the type (objects → JSON, strings → text,
   * bytes → .bin, typed arrays → .npy, arquero tables → CSV). An existing name gets `_1`, `_2`, ….
   * @example
   * await run.save({ weights: [1, 2] }, "model");   // artifacts/model.json
   * await run.save(new Float32Array(w), "weights"); // artifacts/weights.npy, loads in NumPy
   */
  async save(value: unknown, name?: string, options: SaveOptions = {}): Promise<ArtifactRecord> {
    if (this._status !== "running") throw this.endedError("save");
    const saver = pickSaver(value, this.init.savers);
    const base = stripExt(checkRelativePath("artifact", name ?? `artifact_${this.artifacts.length + 1}`), saver.ext);
    const data = saver.write(value, options);
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const { version, rel } = this.nextVersion("artifacts", base, saver.ext);
    if (this.dir) {
      const file = inside(this.dir, rel);
      ensureDir(path.dirname(file));
      writeAtomic(file, bytes);
    } else this.ghostFiles.set(rel, Buffer.from(bytes));
    const rec: ArtifactRecord = {
      name: base,
      version,
      file: rel,
      format: saver.format,
      type: typeName(value),
      mediaType: saver.mediaType ?? mediaTypeOf(rel),
      size: bytes.byteLength,
      sha256: sha256(bytes),
      time: Date.now(),
      kind: "artifact",
      ...(options.shape ? { shape: [...options.shape] } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    this.artifacts.push(rec);
    this.notify("artifact", rec);
    return rec;
  }

  /**
   * Load an artifact of this run by name: the newest version, or an exact stored name such as
   * `model_1`. Gives back the type that was saved (Map, Set, Date, typed arrays, tables…).
   */
  async load(name: string, options: { version?: number } = {}): Promise<unknown> {
    return loadArtifact(this.id, this.artifacts, name, options.version, this.init.savers, (rel) => this.readFile(rel));
  }

  /** Every artifact and checkpoint saved so far. */
  artifactList(): readonly ArtifactRecord[] {
    return this.artifacts;
  }

  /**
   * Copy a file into the run's artifacts with its size and sha256.
   * @example
   * await run.addArtifact("plots/loss.png", { name: "loss-curve", metadata: { dpi: 96 } });
   */
  async addArtifact(file: string, options: { name?: string; metadata?: Record<string, unknown> } = {}): Promise<ArtifactRecord> {
    return this.addFile(file, "artifact", options);
  }

  /** Copy a checkpoint file into the run's `checkpoints/` folder. */
  async addCheckpoint(file: string, options: { name?: string; metadata?: Record<string, unknown> } = {}): Promise<ArtifactRecord> {
    return this.addFile(file, "checkpoint", options);
  }

  /** Record a file the run read (a data set, a vocabulary); stored once across runs by its hash. */
  async addResource(file: string): Promise<ResourceRecord> {
    if (this._status !== "running") throw this.endedError("addResource");
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw storeError("read", file, e);
    }
    const sha = sha256(data);
    this.init.store?.putBlob(data, sha);
    const rec: ResourceRecord = { path: path.resolve(file), sha256: sha, size: data.length, time: Date.now() };
    this.resources.push(rec);
    this.beat();
    return rec;
  }

  /** Attach free-form metadata to the run's record. */
  setMetadata(values: Record<string, unknown>): void {
    if (this._status !== "running") throw this.endedError("setMetadata");
    Object.assign(this.init.metadata, values);
    this.beat();
  }

  /** Internal: record a notebook cell executed while the run was open; its source is stored once by hash. */
  addCell(cell: Omit<CellRecord, "sha256">, source: string): CellRecord {
    const data = Buffer.from(source, "utf8");
    const rec: CellRecord = { ...cell, sha256: sha256(data) };
    try {
      this.init.store?.putBlob(data, rec.sha256);
    } catch (e) {
      this.pendingError ??= e;
    }
    this.cells.push(rec);
    if (this._status === "running") this.beat();
    return rec;
  }

  /** Internal: complete a cell's record (end time, ok, error). */
  updateCell(rec: CellRecord, patch: Partial<CellRecord>): void {
    Object.assign(rec, patch);
    if (this._status === "running") this.beat();
    else if (this.begun) this.notify("heartbeat"); // an ended run's record is rewritten once more
  }

  /** The cells recorded so far. */
  cellList(): readonly CellRecord[] {
    return this.cells;
  }

  /** Add a sink for this run's events. */
  addObserver(observer: RunObserver): void {
    this.observers.push(observer);
    if (this.begun) this.callObserver(observer, "started");
  }

  /**
   * End the run: write everything, record its status, duration and result.
   * @example
   * await run.end();                         // completed
   * await run.end({ status: "failed", error });
   */
  async end(options: EndOptions = {}): Promise<RunRecord> {
    if (this._status !== "running") return this.record();
    await Promise.race([this.init.gitDirty ?? Promise.resolve(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.endSync(options);
    const drains = this.observers.map((o) => (o.drain ? o.drain().catch((e) => this.reportObserverError(o, e)) : undefined));
    await Promise.all(drains);
    if (this.pendingError) this.throwPending();
    return this.record();
  }

  /** Internal: a background write failed; the next call on the run throws it. */
  fault(e: unknown): void {
    this.pendingError ??= e;
  }

  /** Mark the run failed with an error (interrupts become `interrupted`). The error is not re-thrown. */
  async fail(error: unknown, endedBy: RunRecord["endedBy"] = "end"): Promise<RunRecord> {
    return this.end({ status: isInterrupt(error) ? "interrupted" : "failed", error, endedBy });
  }

  /** Internal: end without waiting (process exit, signals). */
  endSync(options: EndOptions = {}): void {
    if (this._status !== "running") return;
    const status = options.status ?? (options.error !== undefined ? (isInterrupt(options.error) ? "interrupted" : "failed") : "completed");
    let flushError: unknown;
    try {
      this.flush(Date.now(), true);
    } catch (e) {
      flushError = e;
    }
    this._status = status;
    this.endTime = Date.now();
    this.endedBy = options.endedBy ?? "end";
    if (options.result !== undefined) this.result = options.result;
    if (options.error !== undefined) this.error = errorInfo(options.error);
    this.stop();
    this.notify("ended");
    if (flushError) throw flushError;
  }

  /** The run's record as it stands now (what `run.json` holds). */
  record(): RunRecord {
    const metrics: RunRecord["metrics"] = {};
    for (const [k, s] of this.series) metrics[k] = s.summary();
    const i = this.init;
    const rec: RunRecord = {
      format: 1,
      id: this.id,
      experiment: this.experiment,
      number: this.number,
      name: this.name,
      status: this._status,
      tags: [...this.tags],
      startTime: this.startTime,
      heartbeat: this.lastBeat,
      pid: process.pid,
      hostname: this.env.host?.hostname ?? require("node:os").hostname(),
      config: i.config,
      modified: i.modified,
      added: i.added,
      named: i.named,
      seed: this.seed,
      metrics,
      histograms: [...this.histogramSteps.keys()],
      artifacts: this.artifacts,
      resources: this.resources,
      cells: this.cells,
      metadata: i.metadata,
    };
    if (this.endTime !== undefined) {
      rec.endTime = this.endTime;
      rec.duration = this.endTime - this.startTime;
      rec.endedBy = this.endedBy;
    }
    if (this.result !== undefined) rec.result = JSON.parse(recordJson(this.result) ?? "null");
    if (this.error) rec.error = this.error;
    if (i.rerunOf) rec.rerunOf = i.rerunOf;
    if (i.notebook) rec.notebook = i.notebook;
    return rec;
  }

  /** Internal: tell observers the run started and begin flushing and heartbeats. */
  begin(): void {
    openRuns.add(this as Run<unknown>);
    this.begun = true;
    this.notify("started");
    this.timer = setInterval(() => {
      try {
        this.flush(Date.now());
      } catch (e) {
        // surfaced at the next call on the run
        this.pendingError = e;
      }
    }, FLUSH_MS);
    this.timer.unref();
    if (this.init.captureOutput) this.stopOutput = captureOutput((stream, text) => this.notify("output", stream, text));
  }

  /**
   * Hand buffered points to the observers. Runs every FLUSH_MS on a timer and, for loops that
   * never yield to the event loop, from log() itself, so a crash loses at most that much.
   */
  flush(now = Date.now(), force = false): void {
    this.lastFlush = now;
    const batch: MetricBatch[] = [];
    for (const s of this.series.values()) if (s.flushed < s.count) batch.push({ series: s, from: s.flushed, to: s.count });
    if (batch.length) {
      this.notify("metrics", batch);
      for (const b of batch) b.series.flushed = b.to;
    }
    if (force || now - this.lastBeat >= HEARTBEAT_MS) this.beat(now);
  }

  private beat(now = Date.now()): void {
    this.lastBeat = now;
    if (this.begun) this.notify("heartbeat");
  }

  private addSeries(name: string): Series {
    checkMetricName(name);
    const s = new Series(name);
    this.series.set(name, s);
    return s;
  }

  private async addFile(file: string, kind: ArtifactRecord["kind"], options: { name?: string; metadata?: Record<string, unknown> }): Promise<ArtifactRecord> {
    if (this._status !== "running") throw this.endedError(kind === "checkpoint" ? "addCheckpoint" : "addArtifact");
    if (typeof file !== "string" || !file) throw new LabnoteError("INVALID_VALUE", `Cannot add ${kind}`, `expected a file path, got ${describe(file)}`);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      throw storeError("read", file, e);
    }
    if (!st.isFile()) throw new LabnoteError("INVALID_VALUE", `Cannot add ${kind} ${file}`, "it is not a regular file");
    const ext = path.extname(options.name ?? file);
    const base = stripExt(checkRelativePath(kind, options.name ?? path.basename(file)), ext);
    const { version, rel } = this.nextVersion(kind === "checkpoint" ? "checkpoints" : "artifacts", base, ext);
    let size: number;
    let sha: string;
    if (this.dir) ({ size, sha256: sha } = copyHashed(file, inside(this.dir, rel)));
    else {
      const data = fs.readFileSync(file);
      this.ghostFiles.set(rel, data);
      size = data.length;
      sha = sha256(data);
    }
    const rec: ArtifactRecord = {
      name: base,
      version,
      file: rel,
      format: kind === "checkpoint" ? "checkpoint" : "file",
      type: "file",
      mediaType: mediaTypeOf(rel),
      size,
      sha256: sha,
      time: Date.now(),
      kind,
      source: path.resolve(file),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    this.artifacts.push(rec);
    this.notify("artifact", rec);
    return rec;
  }

  private nextVersion(folder: string, base: string, ext: string): { version: number; rel: string } {
    let version = 0;
    for (const a of this.artifacts) if (a.name === base && a.file.startsWith(folder + "/")) version = Math.max(version, a.version + 1);
    for (;;) {
      const rel = `${folder}/${version === 0 ? base : `${base}_${version}`}${ext}`;
      const taken = this.artifacts.some((a) => a.file === rel) || (this.dir ? fs.existsSync(path.join(this.dir, rel)) : this.ghostFiles.has(rel));
      if (!taken) return { version, rel };
      version++;
    }
  }

  private readFile(rel: string): Buffer {
    if (!this.dir) {
      const data = this.ghostFiles.get(rel);
      if (!data) throw new LabnoteError("NOT_FOUND", `No artifact file ${rel}`, "it was not saved in this ghost run");
      return data;
    }
    try {
      return fs.readFileSync(inside(this.dir, rel));
    } catch (e) {
      throw storeError("read", path.join(this.dir, rel), e);
    }
  }

  private notify(event: "started" | "ended" | "heartbeat"): void;
  private notify(event: "metrics", batch: MetricBatch[]): void;
  private notify(event: "histogram", h: Histogram): void;
  private notify(event: "artifact", a: ArtifactRecord): void;
  private notify(event: "output", stream: "stdout" | "stderr", text: string): void;
  private notify(event: keyof RunObserver, ...args: unknown[]): void {
    let critical: unknown;
    for (const o of this.observers) {
      try {
        this.callObserver(o, event, ...args);
      } catch (e) {
        if (o.critical) critical ??= e;
      }
    }
    if (critical) throw critical;
  }

  private callObserver(o: RunObserver, event: keyof RunObserver, ...args: unknown[]): void {
    const fn = o[event] as ((run: Run<C>, ...a: unknown[]) => void) | undefined;
    if (typeof fn !== "function") return;
    try {
      fn.call(o, this, ...args);
    } catch (e) {
      if (o.critical) throw e;
      this.reportObserverError(o, e);
    }
  }

  private reportObserverError(o: RunObserver, e: unknown): void {
    if (this.reportedObservers.has(o)) return;
    this.reportedObservers.add(o);
    warn(`labnote: an observer of run ${this.id} failed and is skipped from now on for this error: ${e instanceof Error ? e.message : String(e)}`);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopOutput?.();
    this.stopOutput = undefined;
    openRuns.delete(this as Run<unknown>);
  }

  private throwPending(): never {
    const e = this.pendingError;
    this.pendingError = undefined;
    throw isLabnoteError(e) ? e : new LabnoteError("STORE_WRITE", `Cannot write run ${this.id}`, String(e), { cause: e });
  }

  private endedError(what: string): LabnoteError {
    return new LabnoteError("RUN_ENDED", `Cannot ${what} on run ${this.id}`, `the run has ended (${this._status}); start a new run with exp.start() to record more`);
  }

  private _status: RunStatus = "running";
  private endTime: number | undefined;
  private endedBy: RunRecord["endedBy"];
  private result: unknown;
  private error: RunRecord["error"];
  private begun = false;
  private timer: NodeJS.Timeout | undefined;
  private stopOutput: (() => void) | undefined;
  private pendingError: unknown;
  private lastFlush: number;
  private lastBeat: number;
  private lastName: string | undefined;
  private lastSeries: Series | undefined;
  private readonly init: RunInit;
  private readonly rng: () => number;
  private readonly observers: RunObserver[];
  private readonly series = new Map<string, Series>();
  private readonly histogramSteps = new Map<string, number>();
  private readonly artifacts: ArtifactRecord[] = [];
  private readonly resources: ResourceRecord[] = [];
  private readonly cells: CellRecord[] = [];
  private readonly ghostFiles = new Map<string, Buffer>();
  private readonly reportedObservers = new Set<RunObserver>();
}

function badValue(name: string, v: unknown): LabnoteError {
  const hint = typeof v === "bigint" ? "; convert it with Number(x)" : typeof v === "string" ? "; parse it with Number(x) first" : "";
  return new LabnoteError("INVALID_VALUE", `Cannot log metric "${name}"`, `expected a number, got ${describe(v)}${hint}`);
}

function checkStep(name: string, step: unknown): number {
  if (typeof step !== "number" || !Number.isFinite(step))
    throw new LabnoteError("INVALID_VALUE", `Cannot log metric "${name}"`, `the step must be a finite number, got ${describe(step)}`);
  return step;
}

function checkMetricName(name: unknown): void {
  if (typeof name !== "string" || name.length === 0 || name.length > 250 || /[\u0000-\u001f]/.test(name))
    throw new LabnoteError("INVALID_NAME", "Invalid metric name", `expected a non-empty string without control characters (at most 250 characters), got ${describe(name)}`);
}

function stripExt(name: string, ext: string): string {
  return ext && name.toLowerCase().endsWith(ext.toLowerCase()) && name.length > ext.length ? name.slice(0, -ext.length) : name;
}

/** Error details for a record: message, name and stack, whatever was thrown. */
export function errorInfo(e: unknown): { name: string; message: string; stack?: string } {
  if (e instanceof Error || (typeof e === "object" && e !== null && "message" in e)) {
    const err = e as Error;
    return { name: String(err.name ?? "Error"), message: String(err.message), ...(err.stack ? { stack: String(err.stack) } : {}) };
  }
  return { name: "Error", message: typeof e === "string" ? e : recordJson(e) ?? String(e) };
}

/** Shared by live and finished runs: find an artifact by name and decode it. */
export async function loadArtifact(
  runId: string,
  artifacts: readonly ArtifactRecord[],
  name: string,
  version: number | undefined,
  savers: [SaverTest, Saver][],
  read: (rel: string) => Buffer,
): Promise<unknown> {
  const byName = artifacts.filter((a) => a.name === name && (version === undefined || a.version === version));
  let rec = byName.length ? byName.reduce((a, b) => (b.version > a.version ? b : a)) : undefined;
  rec ??= artifacts.find((a) => path.posix.basename(a.file).replace(/\.[^.]*$/, "") === name || a.file === name);
  if (!rec) {
    const names = [...new Set(artifacts.map((a) => a.name))];
    throw new LabnoteError("NOT_FOUND", `No artifact "${name}" in run ${runId}`, names.length ? `it has ${names.map((n) => `"${n}"`).join(", ")}` : "it has no artifacts");
  }
  const data = read(rec.file);
  if (rec.format === "file" || rec.format === "checkpoint") return data;
  const saver = saverFor(rec.format, savers);
  if (!saver) throw new LabnoteError("UNSUPPORTED", `Cannot load artifact "${name}"`, `it was saved as "${rec.format}"; add the same saver with exp.addSaver() to read it`);
  return saver.read(data, { type: rec.type, shape: rec.shape });
}
