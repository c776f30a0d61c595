/**
 * Sweeps: the record a sweep keeps on disk, its parser, the sweep card's payload, and the rules
 * every reader shares (ids, the best trial, the order of trials by their metric).
 * ```
 * <root>/<experiment>/_sweeps/<number>.json   one file per sweep, rewritten atomically by the kernel
 * ```
 * A sweep's id is `<experiment>/sweep-<number>`; its trials are runs of the experiment tagged
 * `sweep-<number>`, with `metadata.sweep = { id, trial }`.
 */
import { fromWire, isWireNumber, type WireNumber } from "./numbers";
import { isPlainObject } from "./json";
import { LabnoteError } from "./errors";

/** The folder of sweep records inside an experiment's folder (never a run folder's name). */
export const SWEEPS_DIR = "_sweeps";

/** labnote's MIME type of the sweep card. */
export const SWEEP_MIME = "application/vnd.labnote.sweep+json";

/** The sweep record's format version; a reader refuses anything newer. */
export const SWEEP_FORMAT = 1;

/** A distribution of the random strategy. */
export type SweepDistribution = { random: "uniform" | "log-uniform" | "int"; min: number; max: number } | { choice: readonly unknown[] };

/** A sweep's space: dotted config keys to a list of values or a distribution. */
export type SweepSpace = Record<string, readonly unknown[] | SweepDistribution>;

export type SweepStrategy = "grid" | "random";
export type SweepGoal = "min" | "max";
export type SweepStatus = "running" | "completed" | "failed" | "interrupted";
export type TrialStatus = "running" | "completed" | "failed" | "interrupted" | "died";

/** One trial of a sweep: a run with the trial's values as config updates. */
export interface SweepTrial {
  /** The point's place in the sweep's plan, from 0 (a re-run trial keeps its index). */
  trial: number;
  /** The run's id, `<experiment>/<number>`. */
  run: string;
  /** The trial's values, by dotted config key. */
  params: Record<string, unknown>;
  status: TrialStatus;
  /** The metric's last value, when the run has one (NaN and ±Infinity as strings). */
  value?: WireNumber;
  error?: string;
  startTime: number;
  endTime?: number;
}

/** What `<root>/<experiment>/_sweeps/<number>.json` holds. */
export interface SweepRecord {
  format: number;
  /** `<experiment>/sweep-<number>` */
  id: string;
  experiment: string;
  number: number;
  /** The name given with `name:`, or null. */
  name: string | null;
  strategy: SweepStrategy;
  space: SweepSpace;
  /** The seed of the generator that draws random trials (recorded for grids too). */
  seed: number;
  /** How many trials the plan has (grid: every combination; random: the `trials` asked for). */
  total: number;
  metric: string | null;
  goal: SweepGoal;
  stopOnError: boolean;
  status: SweepStatus;
  startTime: number;
  endTime?: number;
  /** The last time the record was written. */
  updated: number;
  pid: number;
  hostname: string;
  /** Every trial run, in the order they started (a trial run again appears twice). */
  runs: SweepTrial[];
  /** The best completed trial by the metric, or null. */
  best: SweepTrial | null;
}

/** The id of sweep `number` of `experiment`. */
export function sweepId(experiment: string, number: number): string {
  return `${experiment}/sweep-${number}`;
}

/** The tag of the runs of sweep `number`. */
export function sweepTag(number: number): string {
  return `sweep-${number}`;
}

/** The sweep a run is a trial of (its `metadata.sweep`), if any. */
export function trialOf(run: { metadata?: Record<string, unknown> }): { id: string; trial: number } | undefined {
  const s = run.metadata?.sweep;
  return isPlainObject(s) && typeof s.id === "string" && typeof s.trial === "number" ? { id: s.id, trial: s.trial } : undefined;
}

/** The number of the sweep whose tag (`sweep-<n>`) is among `tags`, if any: the inverse of {@link sweepTag}. */
export function sweepOfTags(tags: readonly string[]): number | undefined {
  for (const t of tags) {
    const m = /^sweep-([1-9]\d*)$/.exec(t);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** A sweep record's path, relative to the root. */
export function sweepPath(experiment: string, number: number): string {
  return `${experiment}/${SWEEPS_DIR}/${number}.json`;
}

/** True for the file name of a sweep record inside `_sweeps/`. */
export function isSweepFile(name: string): boolean {
  return /^[1-9]\d*\.json$/.test(name);
}

/**
 * The number of a sweep named by `id`: `"mnist/sweep-3"`, `"sweep-3"`, `"3"` or `3`.
 * @throws LabnoteError INVALID_VALUE when it names no sweep of `experiment`.
 */
export function parseSweepId(experiment: string, id: unknown): number {
  const text = typeof id === "number" ? String(id) : typeof id === "string" ? id : "";
  const m = /^(?:(.+)\/)?(?:sweep-)?([1-9]\d*)$/.exec(text);
  if (!m || (m[1] !== undefined && m[1] !== experiment))
    throw new LabnoteError("INVALID_VALUE", `Invalid sweep id ${JSON.stringify(id)}`, `expected "${experiment}/sweep-<number>", "sweep-<number>" or a number`);
  return Number(m[2]);
}

/** A trial's value as a number (NaN when it has none). */
export function trialValue(t: Pick<SweepTrial, "value">): number {
  return t.value === undefined ? NaN : fromWire(t.value);
}

/**
 * Order trials best first by the metric (`goal` min: lowest first); trials without a finite
 * value come last, in the order they started.
 */
export function rankTrials<T extends Pick<SweepTrial, "value" | "startTime">>(trials: readonly T[], goal: SweepGoal): T[] {
  const sign = goal === "max" ? -1 : 1;
  return trials
    .map((t, i) => ({ t, i, v: trialValue(t) }))
    .sort((a, b) => {
      const fa = Number.isFinite(a.v);
      const fb = Number.isFinite(b.v);
      if (fa !== fb) return fa ? -1 : 1;
      if (fa && a.v !== b.v) return sign * (a.v - b.v);
      return a.i - b.i;
    })
    .map((x) => x.t);
}

/** The best completed trial with a finite value, or null. */
export function bestTrial(trials: readonly SweepTrial[], goal: SweepGoal): SweepTrial | null {
  const done = trials.filter((t) => t.status === "completed" && Number.isFinite(trialValue(t)));
  return done.length ? rankTrials(done, goal)[0] : null;
}

const SWEEP_STATUSES: readonly string[] = ["running", "completed", "failed", "interrupted"];
const TRIAL_STATUSES: readonly string[] = ["running", "completed", "failed", "interrupted", "died"];

function parseTrial(x: unknown): SweepTrial | string {
  if (!isPlainObject(x)) return "a trial is not an object";
  if (!Number.isInteger(x.trial) || (x.trial as number) < 0) return "a trial has no index";
  if (typeof x.run !== "string") return "a trial has no run id";
  if (!isPlainObject(x.params)) return "a trial has no params";
  if (typeof x.status !== "string" || !TRIAL_STATUSES.includes(x.status)) return `a trial has status ${JSON.stringify(x.status)}`;
  if (typeof x.startTime !== "number") return "a trial has no start time";
  const t: SweepTrial = { trial: x.trial as number, run: x.run, params: x.params, status: x.status as TrialStatus, startTime: x.startTime };
  if (isWireNumber(x.value)) t.value = x.value;
  if (typeof x.error === "string") t.error = x.error;
  if (typeof x.endTime === "number") t.endTime = x.endTime;
  return t;
}

/**
 * Parse a sweep record (the text of its file or the parsed JSON). Never throws: what is not a
 * sweep record of a known format comes back as `{ ok: false, reason }`.
 */
export function parseSweepRecord(input: unknown): { ok: true; record: SweepRecord } | { ok: false; reason: string } {
  let x: unknown = input;
  if (typeof input === "string") {
    try {
      x = JSON.parse(input);
    } catch (e) {
      return { ok: false, reason: `not JSON (${(e as Error).message})` };
    }
  }
  if (!isPlainObject(x)) return { ok: false, reason: "not a JSON object" };
  if (typeof x.format !== "number") return { ok: false, reason: "no format number" };
  if (x.format > SWEEP_FORMAT) return { ok: false, reason: `format ${x.format} is newer than this labnote reads (${SWEEP_FORMAT}); upgrade labnote` };
  if (typeof x.experiment !== "string" || !Number.isInteger(x.number) || typeof x.id !== "string") return { ok: false, reason: "no experiment, number or id" };
  if (x.strategy !== "grid" && x.strategy !== "random") return { ok: false, reason: `unknown strategy ${JSON.stringify(x.strategy)}` };
  if (!isPlainObject(x.space)) return { ok: false, reason: "no space" };
  if (typeof x.status !== "string" || !SWEEP_STATUSES.includes(x.status)) return { ok: false, reason: `unknown status ${JSON.stringify(x.status)}` };
  if (!Array.isArray(x.runs)) return { ok: false, reason: "no runs list" };
  const runs: SweepTrial[] = [];
  for (const r of x.runs) {
    const t = parseTrial(r);
    if (typeof t === "string") return { ok: false, reason: t };
    runs.push(t);
  }
  const goal: SweepGoal = x.goal === "max" ? "max" : "min";
  const record: SweepRecord = {
    format: x.format,
    id: x.id,
    experiment: x.experiment,
    number: x.number as number,
    name: typeof x.name === "string" ? x.name : null,
    strategy: x.strategy,
    space: x.space as SweepSpace,
    seed: typeof x.seed === "number" ? x.seed : 0,
    total: typeof x.total === "number" ? x.total : runs.length,
    metric: typeof x.metric === "string" ? x.metric : null,
    goal,
    stopOnError: x.stopOnError === true,
    status: x.status as SweepStatus,
    startTime: typeof x.startTime === "number" ? x.startTime : 0,
    updated: typeof x.updated === "number" ? x.updated : 0,
    pid: typeof x.pid === "number" ? x.pid : 0,
    hostname: typeof x.hostname === "string" ? x.hostname : "",
    runs,
    best: bestTrial(runs, goal),
  };
  if (typeof x.endTime === "number") record.endTime = x.endTime;
  return { ok: true, record };
}

/** The latest attempt of each trial index, in index order. */
export function latestTrials(runs: readonly SweepTrial[]): SweepTrial[] {
  const byIndex = new Map<number, SweepTrial>();
  for (const t of runs) byIndex.set(t.trial, t);
  return [...byIndex.values()].sort((a, b) => a.trial - b.trial);
}

/** Counts of a sweep's trials (the latest attempt of each), for cards and tables. */
export function sweepCounts(record: Pick<SweepRecord, "runs" | "total">): { total: number; done: number; completed: number; failed: number; interrupted: number; running: number } {
  const latest = latestTrials(record.runs);
  const count = (s: TrialStatus) => latest.filter((t) => t.status === s).length;
  const completed = count("completed");
  const failed = count("failed");
  return { total: record.total, done: completed + failed, completed, failed, interrupted: count("interrupted") + count("died"), running: count("running") };
}

/** One row of the sweep card's table, and one line of its parallel coordinates. */
export interface SweepRow {
  trial: number;
  run: string;
  status: TrialStatus;
  params: Record<string, unknown>;
  value: WireNumber | null;
  /** Why a failed trial failed (its first {@link ROW_ERROR_CHARS} characters). */
  error?: string;
}

/** A row carries at most this much of a trial's error. */
export const ROW_ERROR_CHARS = 300;

/** The sweep card's payload (MIME {@link SWEEP_MIME}). */
export interface SweepPayload {
  v: number;
  kind: "sweep";
  id: string;
  experiment: string;
  name: string | null;
  strategy: SweepStrategy;
  status: SweepStatus;
  metric: string | null;
  goal: SweepGoal;
  seed: number;
  /** Config keys of the space, in the space's order: the axes of the parallel coordinates. */
  keys: string[];
  total: number;
  done: number;
  failed: number;
  running: number;
  startTime: number;
  endTime?: number;
  sentAt: number;
  /** Seconds left at the pace of the trials so far (absent before the first trial ends). */
  eta?: number;
  best: SweepRow | null;
  /** The running trial and its metric's last value so far. */
  current: SweepRow | null;
  /** The best trials, best first (at most 50). */
  rows: SweepRow[];
  /** How many finished trials the table leaves out. */
  rest: number;
  /** Finished trials drawn in the parallel coordinates (the best ones and a sample of the rest). */
  lines: SweepRow[];
  /** The latest trial that failed, with its error (whether or not the table shows it). */
  failure?: SweepRow;
}

/** One axis of a sweep's parallel coordinates: where each value sits, from 0 (bottom) to 1 (top). */
export interface ParallelAxis {
  /** A config key, or the metric (the last axis). */
  key: string;
  kind: "linear" | "log" | "category";
  /** The position of a value on the axis, or null when it has none there. */
  position(v: unknown): number | null;
  /** The labels at the bottom and top of the axis (a category axis labels every value). */
  ticks: { at: number; label: string }[];
}

/**
 * Whether a sweep's axis for `key` is drawn on a log scale: a log-uniform key, or positive
 * values spanning 10× or more (the card and the dashboard draw the same axes).
 */
export function sweepAxisIsLog(space: SweepSpace | undefined, key: string, nums: readonly number[]): boolean {
  return isLog(space, key, nums);
}

function isLog(space: SweepSpace | undefined, key: string, nums: readonly number[]): boolean {
  const d = space?.[key] as { random?: string } | undefined;
  if (d && !Array.isArray(d) && d.random === "log-uniform") return true;
  const lo = Math.min(...nums);
  return lo > 0 && Math.max(...nums) / lo >= 10;
}

/**
 * The axes of a sweep's parallel coordinates over `rows`: one per key of the space (numbers on a
 * linear or, for log-uniform keys and positive values spanning 10× or more, a log scale; other
 * values as categories in the space's order), then the metric. `format` labels numbers.
 */
export function parallelAxes(rows: readonly SweepRow[], keys: readonly string[], space: SweepSpace | undefined, metric: string, format: (x: number) => string): ParallelAxis[] {
  const axis = (key: string, values: unknown[], listed: readonly unknown[] | undefined): ParallelAxis => {
    const nums = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (nums.length === values.length && nums.length > 0) {
      const log = isLog(space, key, nums);
      const f = (x: number) => (log ? Math.log(x) : x);
      const lo = Math.min(...nums.map(f));
      const hi = Math.max(...nums.map(f));
      const position = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? (hi === lo ? 0.5 : (f(v) - lo) / (hi - lo)) : null);
      const a = Math.min(...nums);
      const b = Math.max(...nums);
      // A few distinct values (a grid's list): label each; else the two ends.
      const distinct = [...new Set(nums)].sort((x, y) => x - y);
      const ticks = distinct.length <= 6 ? distinct.map((x) => ({ at: position(x) as number, label: format(x) })) : [{ at: 0, label: format(a) }, { at: 1, label: format(b) }];
      return { key, kind: log ? "log" : "linear", position, ticks };
    }
    const order: string[] = [];
    const text = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? format(v) : JSON.stringify(v) ?? "");
    for (const v of [...(listed ?? []), ...values]) if (!order.includes(text(v))) order.push(text(v));
    const at = (i: number) => (order.length === 1 ? 0.5 : i / (order.length - 1));
    return { key, kind: "category", position: (v) => (order.includes(text(v)) ? at(order.indexOf(text(v))) : null), ticks: order.map((label, i) => ({ at: at(i), label })) };
  };
  const listedOf = (key: string): readonly unknown[] | undefined => {
    const d = space?.[key];
    if (Array.isArray(d)) return d;
    if (d && typeof d === "object" && "choice" in d && Array.isArray(d.choice)) return d.choice;
    return undefined;
  };
  const out = keys.map((k) => axis(k, rows.map((r) => r.params[k]), listedOf(k)));
  out.push(axis(metric, rows.map((r) => (r.value === null ? NaN : fromWire(r.value))).filter(Number.isFinite), undefined));
  return out;
}

function decodeRow(x: unknown): SweepRow | undefined {
  if (!isPlainObject(x) || !Number.isInteger(x.trial) || typeof x.run !== "string" || typeof x.status !== "string" || !TRIAL_STATUSES.includes(x.status) || !isPlainObject(x.params)) return undefined;
  if (x.value !== null && !isWireNumber(x.value)) return undefined;
  const row: SweepRow = { trial: x.trial as number, run: x.run, status: x.status as TrialStatus, params: x.params, value: x.value as WireNumber | null };
  if (typeof x.error === "string") row.error = x.error.slice(0, ROW_ERROR_CHARS);
  return row;
}

/**
 * Decode a sweep card's payload (MIME {@link SWEEP_MIME}). Never throws: malformed or newer
 * input comes back as `{ ok: false, reason }`.
 */
export function decodeSweepPayload(input: unknown, version = 1): { ok: true; payload: SweepPayload } | { ok: false; reason: string } {
  if (!isPlainObject(input)) return { ok: false, reason: "the sweep payload is not an object" };
  if (typeof input.v !== "number" || input.v > version) return { ok: false, reason: `sweep payload version ${String(input.v)} is not one this labnote reads (${version})` };
  if (input.kind !== "sweep" || typeof input.id !== "string") return { ok: false, reason: "not a sweep payload" };
  if (input.strategy !== "grid" && input.strategy !== "random") return { ok: false, reason: `unknown strategy ${JSON.stringify(input.strategy)}` };
  if (typeof input.status !== "string" || !SWEEP_STATUSES.includes(input.status)) return { ok: false, reason: `unknown status ${JSON.stringify(input.status)}` };
  for (const k of ["total", "done", "failed", "running", "startTime", "sentAt", "rest", "seed"] as const) if (typeof input[k] !== "number") return { ok: false, reason: `no ${k}` };
  if (!Array.isArray(input.keys) || !input.keys.every((k) => typeof k === "string")) return { ok: false, reason: "no keys" };
  const rows: SweepRow[] = [];
  const lines: SweepRow[] = [];
  for (const [from, into] of [
    [input.rows, rows],
    [input.lines, lines],
  ] as const) {
    if (!Array.isArray(from)) return { ok: false, reason: "no rows or lines" };
    for (const r of from) {
      const row = decodeRow(r);
      if (!row) return { ok: false, reason: "a malformed row" };
      into.push(row);
    }
  }
  const one = (x: unknown): SweepRow | null | undefined => (x === null || x === undefined ? null : decodeRow(x));
  const best = one(input.best);
  const current = one(input.current);
  if (best === undefined || current === undefined) return { ok: false, reason: "a malformed best or current trial" };
  const p: SweepPayload = {
    v: input.v,
    kind: "sweep",
    id: input.id,
    experiment: typeof input.experiment === "string" ? input.experiment : "",
    name: typeof input.name === "string" ? input.name : null,
    strategy: input.strategy,
    status: input.status as SweepStatus,
    metric: typeof input.metric === "string" ? input.metric : null,
    goal: input.goal === "max" ? "max" : "min",
    seed: input.seed as number,
    keys: input.keys as string[],
    total: input.total as number,
    done: input.done as number,
    failed: input.failed as number,
    running: input.running as number,
    startTime: input.startTime as number,
    sentAt: input.sentAt as number,
    best,
    current,
    rows,
    rest: input.rest as number,
    lines,
  };
  if (typeof input.endTime === "number") p.endTime = input.endTime;
  if (typeof input.eta === "number") p.eta = input.eta;
  const failure = input.failure === undefined ? undefined : decodeRow(input.failure);
  if (failure) p.failure = failure;
  return { ok: true, payload: p };
}

/**
 * Order a card's rows by a column: `null` is the metric, else a key of the space; `"asc"` is
 * lowest first. Rows without a value there come last, whatever the direction.
 */
export function sortSweepRows(rows: readonly SweepRow[], by: string | null, dir: "asc" | "desc"): SweepRow[] {
  const sign = dir === "asc" ? 1 : -1;
  const get = (r: SweepRow): unknown => (by === null ? (r.value === null ? undefined : fromWire(r.value)) : r.params[by]);
  return rows
    .map((r, i) => ({ r, i, v: get(r) }))
    .sort((a, b) => {
      const ea = a.v === undefined || a.v === null || (typeof a.v === "number" && Number.isNaN(a.v));
      const eb = b.v === undefined || b.v === null || (typeof b.v === "number" && Number.isNaN(b.v));
      if (ea !== eb) return ea ? 1 : -1;
      if (ea) return a.i - b.i;
      if (typeof a.v === "number" && typeof b.v === "number") return a.v === b.v ? a.i - b.i : sign * (a.v - b.v);
      const sa = typeof a.v === "string" ? a.v : JSON.stringify(a.v);
      const sb = typeof b.v === "string" ? b.v : JSON.stringify(b.v);
      return sa === sb ? a.i - b.i : sign * (sa < sb ? -1 : 1);
    })
    .map((x) => x.r);
}
