/**
 * Running a sweep in one cell: trials one after another, each a run of the experiment with the
 * trial's values as config updates; the sweep's record rewritten as trials start and end; a
 * failing trial recorded and the sweep going on; an interrupted trial ending the sweep
 * `interrupted`; and resuming, when the same sweep is run again, where it stopped.
 */
import * as os from "node:os";
import * as path from "node:path";
import {
  LabnoteError,
  SWEEPS_DIR,
  SWEEP_FORMAT,
  bestTrial,
  describe,
  fromWire,
  isPlainObject,
  recordJson,
  sweepId,
  sweepTag,
  toWire,
  type RunRecord,
  type SweepGoal,
  type SweepRecord,
  type SweepSpace,
  type SweepStrategy,
  type SweepTrial,
} from "../../protocol";
import { processAlive } from "../../history/read";
import { newSeed } from "../capture/seed";
import { hostHooks } from "../hooks";
import type { RunSink, SweepSinkView } from "../events";
import type { Run } from "../run";
import { isInterrupt } from "../run-state";
import type { ExperimentStorage } from "../storage";
import { warn } from "../util/warn";
import { Sweep } from "./result";
import { canonicalJson, checkSpace, gridPoint, gridSize, randomPoints, type Point } from "./space";
import type { SweepDisplay, SweepView } from "./view";

/** How a sweep runs. */
export interface SweepOptions {
  /** `"grid"`: every combination of the lists; `"random"`: `trials` draws. Default: grid when every key is a list, else random. */
  strategy?: SweepStrategy;
  /** Random: how many trials to draw (required). Grid: run only the first `trials` combinations. */
  trials?: number;
  /** Seed of the generator that draws random trials; default a fresh one (always recorded). */
  seed?: number;
  /** The metric that ranks trials (its last value in each run). */
  metric?: string;
  /** `"min"` (default): lower is better; `"max"`: higher is better. */
  goal?: SweepGoal;
  /** A name: running a sweep of that name again resumes the latest unfinished one. */
  name?: string;
  /** Stop at the first failing trial (the sweep ends `failed` and the error is thrown). Default false. */
  stopOnError?: boolean;
  /** `false`: always start a new sweep, never resume one. Default true. */
  resume?: boolean;
  /** Config updates for every trial, under the trial's own values. */
  config?: Record<string, unknown>;
  /** Named configs for every trial. */
  named?: string[];
  /** Tags for every trial, besides the sweep's tag. */
  tags?: string[];
  /** Show the sweep's card in the cell output (default: the experiment's setting). */
  widgets?: boolean;
}

/** What a sweep needs of its experiment. */
export interface SweepHost {
  readonly name: string;
  readonly storage: ExperimentStorage | undefined;
  readonly widgets: boolean;
  /** Start a trial run ended by its callback; config keys in `noted` are not warned about again. */
  start(options: { name: string; config: Record<string, unknown>; named: string[]; tags: string[]; metadata: Record<string, unknown>; widgets: false }, noted: Set<string>): Run<unknown>;
  /** A run's record from the store, if it can be read. */
  readRun(id: string): RunRecord | undefined;
  /** The experiment's sweep records, oldest first. */
  readSweeps(): SweepRecord[];
  /** The experiment's sinks: told when the sweep starts, changes and ends. */
  readonly sinks?: readonly RunSink[];
}

/** What a trial's callback is. */
export type TrialCallback<R> = (run: Run<any>) => R | Promise<R>;

/** Sweeps running in this process, by id: never resumed from under themselves. */
const ACTIVE: Set<string> = ((globalThis as unknown as Record<symbol, Set<string> | undefined>)[Symbol.for("labnote.sweeps.active")] ??= new Set());

/** Ended sweeps of this process whose last record is still to be written, by id. */
const RETRYING = new Map<string, NodeJS.Timeout>();

interface Plan {
  strategy: SweepStrategy;
  keys: string[];
  total: number;
  point(i: number, seed: number): Point;
}

function checkOptions(space: unknown, options: SweepOptions): Plan {
  if (options === null || typeof options !== "object") throw new LabnoteError("INVALID_OPTION", "Invalid sweep options", `expected an object, got ${describe(options)}`);
  const listsOnly = isPlainObject(space) && Object.values(space).every((v) => Array.isArray(v) || (isPlainObject(v) && "choice" in v));
  const strategy = options.strategy ?? (listsOnly ? "grid" : "random");
  if (strategy !== "grid" && strategy !== "random") throw new LabnoteError("INVALID_OPTION", "Invalid sweep strategy", `expected "grid" or "random", got ${describe(strategy)}`);
  const keys = checkSpace(space, strategy);
  const s = space as SweepSpace;
  const { trials } = options;
  if (trials !== undefined && (!Number.isInteger(trials) || trials < 1)) throw new LabnoteError("INVALID_OPTION", "Invalid trials", `expected a whole number ≥ 1, got ${describe(trials)}`);
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new LabnoteError("INVALID_OPTION", "Invalid sweep seed", `expected an integer, got ${describe(options.seed)}`);
  if (options.goal !== undefined && options.goal !== "min" && options.goal !== "max") throw new LabnoteError("INVALID_OPTION", "Invalid goal", `expected "min" or "max", got ${describe(options.goal)}`);
  if (options.metric !== undefined && (typeof options.metric !== "string" || !options.metric)) throw new LabnoteError("INVALID_OPTION", "Invalid metric", `expected a metric name, got ${describe(options.metric)}`);
  if (options.name !== undefined && (typeof options.name !== "string" || !options.name || options.name.length > 200 || /[\u0000-\u001f]/.test(options.name)))
    throw new LabnoteError("INVALID_NAME", "Invalid sweep name", `expected a short string without control characters, got ${describe(options.name)}`);
  if (options.config !== undefined && !isPlainObject(options.config)) throw new LabnoteError("INVALID_OPTION", "Invalid sweep config", `expected an object of config updates, got ${describe(options.config)}`);
  if (options.tags !== undefined && (!Array.isArray(options.tags) || !options.tags.every((t) => typeof t === "string"))) throw new LabnoteError("INVALID_OPTION", "Invalid tags", "expected an array of strings");
  if (strategy === "grid") {
    const size = gridSize(s);
    return { strategy, keys, total: Math.min(size, trials ?? size), point: (i) => gridPoint(s, i) };
  }
  if (trials === undefined) throw new LabnoteError("INVALID_OPTION", "A random sweep needs trials", 'give how many trials to draw, e.g. { strategy: "random", trials: 20 }');
  let drawn: Point[] = [];
  return {
    strategy,
    keys,
    total: trials,
    point: (i, seed) => {
      if (drawn.length <= i) drawn = randomPoints(s, seed, trials);
      return drawn[i];
    },
  };
}

/** The latest unfinished sweep that this call continues, if any. */
function findResumable(host: SweepHost, space: SweepSpace, plan: Plan, options: SweepOptions): SweepRecord | undefined {
  const spaceText = canonicalJson(space);
  const name = options.name ?? null;
  const candidates = host.readSweeps().filter((r) => r.name === name && (name !== null || (r.strategy === plan.strategy && canonicalJson(r.space) === spaceText)));
  const last = candidates[candidates.length - 1];
  if (!last || last.status === "completed") return undefined;
  // Still running here, or in another live process: leave it alone and start a new one.
  if (ACTIVE.has(last.id) || (last.status === "running" && last.pid !== process.pid && processAlive(last) === true)) return undefined;
  const same = last.strategy === plan.strategy && canonicalJson(last.space) === spaceText && (options.seed === undefined || options.seed === last.seed);
  if (!same) {
    warn(`labnote: sweep "${name}" (${last.id}) has another ${last.strategy !== plan.strategy ? "strategy" : canonicalJson(last.space) !== spaceText ? "space" : "seed"}; starting a new sweep instead of resuming it.`);
    return undefined;
  }
  return last;
}

function metricValue(record: RunRecord, metric: string | undefined, result: unknown): number | undefined {
  if (metric === undefined) return typeof result === "number" ? result : undefined;
  const s = record.metrics?.[metric];
  if (s) return fromWire(s.last);
  if (typeof result === "number") return result;
  if (isPlainObject(result) && typeof result[metric] === "number") return result[metric] as number;
  return undefined;
}

/**
 * Run a sweep (see `Experiment.sweep`). Resolves with the sweep once it ends (also when it was
 * interrupted); rejects on bad input, a store that cannot be written, or a failing trial with
 * `stopOnError`.
 */
export async function runSweep<R>(host: SweepHost, space: SweepSpace, fn: TrialCallback<R>, options: SweepOptions = {}): Promise<Sweep> {
  if (typeof fn !== "function") throw new LabnoteError("INVALID_OPTION", "Invalid sweep callback", `expected a function that runs one trial, got ${describe(fn)}`);
  const plan = checkOptions(space, options);
  const goal = options.goal ?? "min";
  const storage = host.storage;
  const resumed = storage && options.resume !== false ? findResumable(host, space, plan, options) : undefined;
  const now = Date.now();
  let record: SweepRecord;
  if (resumed) {
    record = resumed;
    record.status = "running";
    record.total = plan.total;
    record.metric = options.metric ?? record.metric;
    record.goal = goal;
    record.stopOnError = options.stopOnError === true;
    record.pid = process.pid;
    record.hostname = os.hostname();
    delete record.endTime;
    // A trial left running by a kernel that died is whatever its run's record says now.
    for (const t of record.runs) if (t.status === "running") t.status = host.readRun(t.run)?.status ?? "died";
  } else {
    record = {
      format: SWEEP_FORMAT,
      id: "",
      experiment: host.name,
      number: 0,
      name: options.name ?? null,
      strategy: plan.strategy,
      space: structuredClone(space),
      seed: options.seed ?? newSeed(),
      total: plan.total,
      metric: options.metric ?? null,
      goal,
      stopOnError: options.stopOnError === true,
      status: "running",
      startTime: now,
      updated: now,
      pid: process.pid,
      hostname: os.hostname(),
      runs: [],
      best: null,
    };
  }
  const sweep = new LiveSweep(host, record, plan.keys, options);
  if (!resumed) sweep.allocate();
  return sweep.run(plan, fn);
}

let ghostSweeps = 0;

/** The sweep's record is rewritten at most this often while trials come and go. */
const WRITE_MS = 200;
/** A record that could not be written is tried again this often. */
const RETRY_MS = 1000;
/** How many times the record of an ended sweep is tried again. */
const FINAL_RETRIES = 60;

/** A sweep while it runs in this process. */
class LiveSweep implements SweepView {
  readonly keys: readonly string[];
  private readonly host: SweepHost;
  private readonly rec: SweepRecord;
  private readonly options: SweepOptions;
  private readonly noted = new Set<string>();
  private readonly cell: object | undefined;
  private display: SweepDisplay | undefined;
  private running: { trial: SweepTrial; run: Run<unknown> } | undefined;
  /** Set once the sweep has ended (interrupted, failed or completed): nothing is written after. */
  private over = false;
  private lastWrite = 0;
  private pending: NodeJS.Timeout | undefined;
  /** True while the last write of the record failed. */
  private unwritten = false;
  private readonly failedSinks = new Set<RunSink>();
  private view: SweepSinkView | undefined;

  constructor(host: SweepHost, record: SweepRecord, keys: readonly string[], options: SweepOptions) {
    this.host = host;
    this.rec = record;
    this.keys = keys;
    this.options = options;
    this.cell = hostHooks().currentCell?.();
  }

  record(): SweepRecord {
    return this.rec;
  }

  current(): { trial: SweepTrial; value?: number } | undefined {
    const r = this.running;
    if (!r) return undefined;
    const metric = this.rec.metric;
    const s = metric ? r.run.record().metrics?.[metric] : undefined;
    return s ? { trial: r.trial, value: fromWire(s.last) } : { trial: r.trial };
  }

  /** Take a new sweep number in the store (or in memory, for a ghost experiment). */
  allocate(): void {
    const storage = this.host.storage;
    if (!storage?.createSweep) {
      this.rec.number = ++ghostSweeps;
      this.rec.id = sweepId(this.host.name, this.rec.number);
      return;
    }
    this.rec.number = storage.createSweep(this.host.name, (n) => {
      this.rec.number = n;
      this.rec.id = sweepId(this.host.name, n);
      return this.text();
    });
    this.rec.id = sweepId(this.host.name, this.rec.number);
  }

  private text(): string {
    this.rec.updated = Date.now();
    this.rec.best = bestTrial(this.rec.runs, this.rec.goal);
    return recordJson(this.rec, 2) + "\n";
  }

  /**
   * Rewrite the record, at most every {@link WRITE_MS} (a sweep of a thousand quick trials
   * would otherwise rewrite a growing file twice a trial); the last change is written when the
   * window closes, and `force` writes at once (the sweep's start and end).
   */
  private write(force = false): void {
    if (this.over) return;
    this.display?.changed();
    this.tell("sweepChanged");
    const storage = this.host.storage;
    if (!storage?.writeSweep) return;
    const now = Date.now();
    if (!force && now - this.lastWrite < WRITE_MS) {
      this.pending ??= setTimeout(() => {
        this.pending = undefined;
        this.write(true);
      }, WRITE_MS - (now - this.lastWrite)).unref();
      return;
    }
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.lastWrite = now;
    try {
      storage.writeSweep(this.host.name, this.rec.number, this.text());
      if (this.unwritten) warn(`labnote: the record of sweep ${this.rec.id} is written again.`);
      this.unwritten = false;
    } catch (e) {
      // The sweep goes on in memory (its card stays true) and the whole record is written again
      // at the next change, or in a second: a full disk that frees up loses nothing.
      if (!this.unwritten) warn(`labnote: cannot write the record of sweep ${this.rec.id} (${e instanceof Error ? e.message : String(e)}); the sweep goes on and writes it again once it can.`);
      this.unwritten = true;
      this.pending ??= setTimeout(() => {
        this.pending = undefined;
        this.write(true);
      }, RETRY_MS).unref();
    }
  }

  /** End the sweep: record its status once, and show the card's last state. */
  private finish(status: SweepRecord["status"]): void {
    if (this.over) return;
    this.rec.status = status;
    this.rec.endTime = Date.now();
    this.rec.best = bestTrial(this.rec.runs, this.rec.goal);
    this.write(true);
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.over = true;
    this.tell("sweepEnded");
    if (this.unwritten) {
      warn(`labnote: sweep ${this.rec.id} ended ${status}, but its record could not be written; it is tried again for a minute.`);
      this.retryFinal(FINAL_RETRIES);
    }
    ACTIVE.delete(this.rec.id);
    this.display?.ended();
  }

  /** Tell the experiment's sinks; a sink that throws is reported once and skipped for the rest of the sweep. */
  private tell(event: "sweepStarted" | "sweepChanged" | "sweepEnded"): void {
    for (const s of this.host.sinks ?? []) {
      const fn = s[event];
      if (typeof fn !== "function" || this.failedSinks.has(s)) continue;
      try {
        fn.call(s, this.sinkView);
      } catch (e) {
        this.failedSinks.add(s);
        warn(`labnote: a sink of sweep ${this.rec.id} failed and is skipped for the rest of it: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** What the sinks see of this sweep. */
  private get sinkView(): SweepSinkView {
    const rec = this.rec;
    const root = this.host.storage?.root;
    return (this.view ??= {
      get id() {
        return rec.id;
      },
      experiment: rec.experiment,
      get number() {
        return rec.number;
      },
      dir: root === undefined ? undefined : path.join(root, rec.experiment, SWEEPS_DIR),
      record: () => rec,
    });
  }

  /** Write the ended sweep's record once the store takes it (a disk that frees up), trying `left` more times. */
  private retryFinal(left: number): void {
    const storage = this.host.storage;
    if (!storage?.writeSweep || left <= 0) return;
    const t = setTimeout(() => {
      RETRYING.delete(this.rec.id);
      try {
        storage.writeSweep!(this.host.name, this.rec.number, this.text());
        warn(`labnote: the record of sweep ${this.rec.id} is written again.`);
      } catch {
        this.retryFinal(left - 1);
      }
    }, RETRY_MS).unref();
    RETRYING.set(this.rec.id, t);
  }

  /** True when the cell that started the sweep was interrupted (tslab lets its async code run on). */
  private cellGone(): boolean {
    return this.cell !== undefined && hostHooks().interrupted?.(this.cell) === true;
  }

  async run<R>(plan: Plan, fn: TrialCallback<R>): Promise<Sweep> {
    ACTIVE.add(this.rec.id);
    // A resumed sweep's record is this one's now, not an earlier run's pending retry.
    clearTimeout(RETRYING.get(this.rec.id));
    RETRYING.delete(this.rec.id);
    const trialRuns: Run<unknown>[] = [];
    try {
      this.write(true);
      this.tell("sweepStarted");
      if (this.options.widgets ?? this.host.widgets) this.display = hostHooks().showSweep?.(this);
      const done = new Set(this.rec.runs.filter((t) => t.status === "completed").map((t) => canonicalJson(t.params)));
      for (let i = 0; i < plan.total && !this.over; i++) {
        const params = plan.point(i, this.rec.seed);
        if (done.has(canonicalJson(params))) continue;
        if (this.cellGone()) {
          this.finish("interrupted");
          break;
        }
        const outcome = await this.trial(i, params, fn, trialRuns);
        if (outcome === "stop") break;
      }
      this.finish("completed");
    } catch (e) {
      if (!this.over) this.finish(isInterrupt(e) ? "interrupted" : "failed");
      ACTIVE.delete(this.rec.id);
      throw e;
    }
    return new Sweep(structuredClone(this.rec), this.records(trialRuns));
  }

  /** Run one trial; "stop" when the sweep ends with it. */
  private async trial<R>(i: number, params: Point, fn: TrialCallback<R>, trialRuns: Run<unknown>[]): Promise<"next" | "stop"> {
    const o = this.options;
    const run = this.host.start(
      {
        name: o.name ?? "trial",
        config: { ...(o.config ?? {}), ...params },
        named: o.named ?? [],
        tags: [sweepTag(this.rec.number), ...(o.tags ?? [])],
        metadata: { sweep: { id: this.rec.id, trial: i } },
        widgets: false,
      },
      this.noted,
    );
    trialRuns.push(run);
    const trial: SweepTrial = { trial: i, run: run.id, params, status: "running", startTime: run.startTime };
    this.rec.runs.push(trial);
    this.running = { trial, run };
    run.addSink({
      metrics: () => this.display?.changed(),
      // An interrupt of the cell ends the trial before its callback returns: the sweep ends now,
      // while the cell can still show it, and runs nothing more.
      ended: (view) => {
        if (view.status === "interrupted" && trial.status === "running") {
          this.settle(trial, view.record(), undefined);
          this.finish("interrupted");
        }
      },
    });
    this.write();
    let result: R | undefined;
    let error: unknown;
    let threw = false;
    try {
      result = await fn(run);
    } catch (e) {
      threw = true;
      error = e;
    }
    let rec: RunRecord;
    try {
      rec = threw ? await run.end({ status: isInterrupt(error) ? "interrupted" : "failed", error, endedBy: "callback" }) : await run.end({ result, endedBy: "callback" });
    } catch (e) {
      // The run's end could not be written (a full disk, a folder gone read-only): the trial did
      // not complete as far as anyone reading the store can tell, so it is failed with the reason.
      this.running = undefined;
      if (this.over) return "stop";
      this.endUnwritten(trial, run, e, threw ? error : undefined);
      if (this.rec.stopOnError) {
        this.finish("failed");
        throw e;
      }
      this.write();
      return "next";
    }
    this.running = undefined;
    if (this.over) return "stop";
    this.settle(trial, rec, result);
    if (rec.status === "interrupted") {
      this.finish("interrupted");
      return "stop";
    }
    if (rec.status === "failed" && this.rec.stopOnError) {
      this.finish("failed");
      throw error ?? new LabnoteError("INVALID_VALUE", `Trial ${i + 1} of sweep ${this.rec.id} failed`, rec.error?.message ?? "the run failed");
    }
    this.write();
    return "next";
  }

  /** A trial whose run could not write its end: failed, saying why (and what its callback threw, if it did). */
  private endUnwritten(trial: SweepTrial, run: Run<unknown>, e: unknown, thrown: unknown): void {
    const why = e instanceof Error ? e.message : String(e);
    trial.status = "failed";
    trial.endTime = run.record().endTime ?? Date.now();
    const before = thrown === undefined ? "" : `${thrown instanceof Error ? thrown.message : String(thrown)}; then `;
    trial.error = `${before}the run's end could not be written: ${why}`;
    delete trial.value;
    this.rec.best = bestTrial(this.rec.runs, this.rec.goal);
    warn(`labnote: trial ${trial.trial + 1} of sweep ${this.rec.id} (run ${trial.run}) is recorded failed: its end could not be written (${why}).${this.rec.stopOnError ? "" : " The sweep goes on."}`);
  }

  private settle(trial: SweepTrial, rec: RunRecord, result: unknown): void {
    trial.status = rec.status === "running" ? "interrupted" : rec.status;
    trial.endTime = rec.endTime ?? Date.now();
    const v = metricValue(rec, this.rec.metric ?? undefined, result);
    if (v !== undefined) trial.value = toWire(v);
    if (rec.error) trial.error = rec.error.message;
    this.rec.best = bestTrial(this.rec.runs, this.rec.goal);
  }

  private records(runs: readonly Run<unknown>[]): RunRecord[] {
    const mine = new Map(runs.map((r) => [r.id, r]));
    const out: RunRecord[] = [];
    for (const t of this.rec.runs) {
      const rec = mine.get(t.run)?.record() ?? this.host.readRun(t.run);
      if (rec) out.push(rec);
    }
    return out;
  }
}
