/**
 * The pure part of the dashboard's charts and scatter: chart rows from metric summaries (or
 * from a metrics.csv reduced the same way), drawn by step, wall time or time since start,
 * smoothed by the protocol's moving average over steps, on a linear or log axis; and the
 * scatter's points. No DOM and no Vega here, so the rules are unit-tested as they are.
 */
import {
  elapsedUnit,
  emaOverSteps,
  fromWire,
  IncrementalBuckets,
  logAxis,
  positiveOnly,
  smoothingUnit,
  type LogAxis,
  type MetricPoints,
  type MetricSummary,
  type MetricSummaryFile,
  type PointSlice,
  type RangeKey,
} from "../protocol";
import type { RunStore } from "../model/store";
import { PALETTE } from "../theme";
import { configSortKey } from "../views/columns";
import type { ChartRow } from "../views/series";
import type { DashboardRun } from "./model";

/** What the x-axis shows. */
export type XAxis = "step" | "wall" | "elapsed";

/** How the charts are drawn: the x-axis, the smoothing (0 to 0.99) and a log y-axis. */
export interface ChartSettings {
  x: XAxis;
  smoothing: number;
  log: boolean;
}

/** One run's metric as its buckets: first step and time of each, min, max and NaN/∞ count, the last point on its own. */
export interface Trace {
  steps: number[];
  times: number[];
  lo: (number | null)[];
  hi: (number | null)[];
  bad: number[];
  /** Entries `[from, to)` are raw points read for a zoomed range (each its own bucket, exact), not buckets of the summary. */
  exact?: [number, number];
}

/** A chart row of the dashboard: the card's row, plus the x value, the smoothed middle, and whether it is one exact point. */
export interface DashChartRow extends ChartRow {
  x: number;
  smooth: number | null;
  /** 1 for a raw point read for a zoomed range. */
  raw: number;
}

/** A metric's chart, ready to draw: its rows, axis titles, the log axis, and what was left out. */
export interface MetricPlot {
  rows: DashChartRow[];
  xTitle: string;
  xTemporal: boolean;
  logY?: LogAxis;
  /** Buckets with a value ≤ 0, left out on a log axis. */
  skipped: number;
  /** Milliseconds per unit of a "time since start" axis. */
  elapsedMs: number;
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** A metric's trace from its summary file: the buckets, then the last point exact. */
export function traceFromSummary(s: MetricSummaryFile): Trace {
  const b = s.buckets;
  const t: Trace = { steps: [...b.step], times: [...b.time], lo: b.min.map((v) => finite(fromWire(v))), hi: b.max.map((v) => finite(fromWire(v))), bad: b.bad ? [...b.bad] : b.step.map(() => 0) };
  const last = s.lastPoint;
  if (last && (t.steps.length === 0 || last.step > t.steps[t.steps.length - 1])) {
    const v = fromWire(last.value);
    t.steps.push(last.step);
    t.times.push(last.time);
    t.lo.push(finite(v));
    t.hi.push(finite(v));
    t.bad.push(Number.isFinite(v) ? 0 : 1);
  }
  return t;
}

/** A metric's trace from its points (a run written before the summaries): reduced as the writer reduces them. */
export function traceFromPoints(name: string, p: MetricPoints, summary?: MetricSummary): Trace {
  const n = p.steps.length;
  const src = { count: n, step: (i: number) => p.steps[i], value: (i: number) => p.values[i], time: (i: number) => p.times[i] };
  const sum = summary ?? { count: n, lastStep: n ? p.steps[n - 1] : 0, last: n ? p.values[n - 1] : NaN, min: NaN, max: NaN };
  return traceFromSummary(new IncrementalBuckets().toSummary(name, src, sum));
}

/**
 * The rows of one metric's chart for these runs (label, start time, trace), drawn as `settings`
 * say. The smoothing unit comes from the longest run's steps, so every run in a chart is
 * smoothed alike and zooming does not change the curve.
 */
export function metricPlot(traces: readonly { label: string; startTime: number; trace: Trace }[], settings: ChartSettings): MetricPlot {
  let span = 0;
  let elapsed = 0;
  for (const { trace, startTime } of traces) {
    const n = trace.steps.length;
    if (n) span = Math.max(span, trace.steps[n - 1] - trace.steps[0]);
    if (n) elapsed = Math.max(elapsed, trace.times[n - 1] - startTime);
  }
  const unit = smoothingUnit(span);
  const el = elapsedUnit(elapsed);
  const alpha = Math.min(Math.max(settings.smoothing, 0), 0.99);
  const rows: DashChartRow[] = [];
  let skipped = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const { label, startTime, trace } of traces) {
    const mids = trace.lo.map((lo, i) => (lo === null || trace.hi[i] === null ? null : (lo + trace.hi[i]!) / 2));
    const smooth = emaOverSteps(trace.steps, mids, alpha, unit);
    for (let i = 0; i < trace.steps.length; i++) {
      const x = settings.x === "step" ? trace.steps[i] : settings.x === "wall" ? trace.times[i] : (trace.times[i] - startTime) / el.ms;
      let lo = trace.lo[i];
      let hi = trace.hi[i];
      let mid = mids[i];
      let sm = smooth[i];
      if (settings.log) {
        if ((lo !== null && lo <= 0) || (hi !== null && hi <= 0)) skipped++;
        lo = positiveOnly(lo);
        hi = positiveOnly(hi);
        mid = positiveOnly(mid);
        sm = positiveOnly(sm);
        // A bucket reaching below 0 keeps its positive top as a line point, not a band.
        if (lo === null) hi = null;
      }
      for (const v of [lo, hi, mid, sm]) {
        if (v === null) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const raw = trace.exact && i >= trace.exact[0] && i < trace.exact[1] ? 1 : 0;
      rows.push({ run: label, step: trace.steps[i], x, lo, hi, mid, smooth: sm, bad: trace.bad[i], raw });
    }
  }
  const plot: MetricPlot = {
    rows,
    xTitle: settings.x === "step" ? "step" : settings.x === "wall" ? "wall time" : el.title,
    xTemporal: settings.x === "wall",
    skipped,
    elapsedMs: el.ms,
  };
  if (settings.log) plot.logY = logAxis(min, max) ?? { domain: [0.1, 10], ticks: [0.1, 1, 10] };
  return plot;
}

/**
 * The range of steps or times that an x-domain of a chart shows for a run that started at
 * `startTime` (`elapsedMs` per unit of a "time since start" axis).
 * @example xWindow("elapsed", [2, 3], t0, 60_000) // { key: "time", lo: t0 + 120000, hi: t0 + 180000 }
 */
export function xWindow(x: XAxis, domain: readonly [number, number], startTime: number, elapsedMs: number): { key: RangeKey; lo: number; hi: number } {
  const [a, b] = domain[0] <= domain[1] ? domain : [domain[1], domain[0]];
  if (x === "step") return { key: "step", lo: a, hi: b };
  if (x === "wall") return { key: "time", lo: a, hi: b };
  return { key: "time", lo: startTime + a * elapsedMs, hi: startTime + b * elapsedMs };
}

/**
 * A trace with raw points in place of the buckets they fall in: the summary's buckets before the
 * first raw point, the raw points (reduced to at most `most` min/max buckets by the writer's own
 * rule when there are more), then the buckets after the last one. The moving average over steps
 * treats both alike, so the curve is the same one the summary draws, only finer.
 */
export function withRaw(trace: Trace, raw: PointSlice, key: RangeKey, most: number): Trace {
  const n = raw.steps.length;
  if (n === 0) return trace;
  const keys = key === "step" ? trace.steps : trace.times;
  const first = key === "step" ? raw.steps[0] : raw.times[0];
  const last = key === "step" ? raw.steps[n - 1] : raw.times[n - 1];
  let before = 0;
  while (before < keys.length && keys[before] < first) before++;
  let after = before;
  while (after < keys.length && keys[after] <= last) after++;
  const mid = n <= most ? exactTrace(raw) : reduced(raw, most);
  const out: Trace = {
    steps: [...trace.steps.slice(0, before), ...mid.steps, ...trace.steps.slice(after)],
    times: [...trace.times.slice(0, before), ...mid.times, ...trace.times.slice(after)],
    lo: [...trace.lo.slice(0, before), ...mid.lo, ...trace.lo.slice(after)],
    hi: [...trace.hi.slice(0, before), ...mid.hi, ...trace.hi.slice(after)],
    bad: [...trace.bad.slice(0, before), ...mid.bad, ...trace.bad.slice(after)],
  };
  if (n <= most) out.exact = [before, before + n];
  return out;
}

/** Raw points as a trace: each point its own bucket. */
function exactTrace(p: PointSlice): Trace {
  const n = p.steps.length;
  const t: Trace = { steps: Array.from(p.steps), times: Array.from(p.times), lo: new Array(n), hi: new Array(n), bad: new Array(n) };
  for (let i = 0; i < n; i++) {
    const v = p.values[i];
    const ok = Number.isFinite(v);
    t.lo[i] = t.hi[i] = ok ? v : null;
    t.bad[i] = ok ? 0 : 1;
  }
  return t;
}

/** Raw points reduced to at most `most` buckets as the writer reduces a series (its last point exact). */
function reduced(p: PointSlice, most: number): Trace {
  const n = p.steps.length;
  const src = { count: n, step: (i: number) => p.steps[i], value: (i: number) => p.values[i], time: (i: number) => p.times[i] };
  const s = new IncrementalBuckets().toSummary("", src, { count: n, lastStep: p.steps[n - 1], last: p.values[n - 1], min: NaN, max: NaN }, Math.max(2, most - 1));
  return traceFromSummary(s);
}

/** How a log chart says what it left out. */
export function skippedText(n: number): string {
  return n ? `${n} bucket${n === 1 ? "" : "s"} with values ≤ 0 left out (log scale)` : "";
}

/** Metrics the dashboard shows apart: the ones the run's system sampler logs. */
export function isSystemMetric(name: string): boolean {
  return name.startsWith("system/");
}

/** The legend label of a run (ids are unique across experiments, names need not be). */
export function runLabel(r: DashboardRun): string {
  return r.record.name ? `${r.id} ${r.record.name}` : r.id;
}

/**
 * Chart colours that stay with their runs: a run keeps its palette slot while it is selected, a
 * newly selected run takes the first free one. Returns the new slots (id → palette index).
 */
export function colorSlots(old: ReadonlyMap<string, number>, selected: readonly string[]): Map<string, number> {
  const keep = new Set(selected);
  const out = new Map([...old].filter(([id]) => keep.has(id)));
  const used = new Set(out.values());
  let next = 0;
  for (const id of selected) {
    if (out.has(id)) continue;
    while (used.has(next)) next++;
    out.set(id, next);
    used.add(next);
  }
  return out;
}

/** The colour of a palette slot. */
export function slotColor(slot: number): string {
  return PALETTE[slot % PALETTE.length];
}

/** Where a metric's raw points are: its column (placed by its summary, format 2), or already in memory (metrics.csv, read whole). */
export type PointsSource = { summary: MetricSummaryFile; points?: undefined } | { points: MetricPoints; summary?: undefined };

/**
 * A run's metrics as traces and where their raw points are: from the summaries of metrics format
 * 2 (for a running run, the ones its last live read found, when newer), else from metrics.csv.
 */
export async function runMetrics(store: RunStore, run: DashboardRun): Promise<Map<string, { trace: Trace; source: PointsSource }>> {
  const out = new Map<string, { trace: Trace; source: PointsSource }>();
  const summaries = (run.record.status === "running" ? store.liveSummaries(run) : undefined) ?? (await store.summaries(run));
  if (summaries) {
    for (const s of summaries) out.set(s.name, { trace: traceFromSummary(s), source: { summary: s } });
    return out;
  }
  for (const [name, p] of await store.points(run)) out.set(name, { trace: traceFromPoints(name, p, run.record.metrics[name]), source: { points: p } });
  return out;
}

/** A run's metrics as traces: from the summaries of metrics format 2, else from metrics.csv. */
export async function runTraces(store: RunStore, run: DashboardRun): Promise<Map<string, Trace>> {
  return new Map([...(await runMetrics(store, run))].map(([name, m]) => [name, m.trace]));
}

/** Which summary of a metric the y-axis shows. */
export type Stat = "last" | "min" | "max";

/** One run's point. */
export interface ScatterPoint {
  id: string;
  name: string;
  x: number | string;
  y: number;
  /** The run's chart colour when it is selected; "" otherwise. */
  color: string;
}

/** The points of a scatter, what kind of x-axis they need, and how many runs had no value. */
export interface ScatterData {
  points: ScatterPoint[];
  xKind: "num" | "cat";
  /** Categories in order (numbers before text, numerically), for a categorical x-axis. */
  categories: string[];
  /** Runs without the key or without a finite value of the metric. */
  missing: number;
  /** Points that a log axis leaves out (values ≤ 0). */
  nonPositive: { x: number; y: number };
}

/**
 * The scatter's points for these runs: x the config key's value, y the metric's summary. Runs
 * missing either are counted, not drawn; the selected runs (id → their chart colour) keep it.
 */
export function scatterData(runs: readonly DashboardRun[], key: string, metric: string, stat: Stat, colorOf: ReadonlyMap<string, string> = new Map()): ScatterData {
  const raw: { run: DashboardRun; x: number | string; y: number }[] = [];
  let missing = 0;
  for (const run of runs) {
    const x = configSortKey(run.config.get(key));
    const y = run.record.metrics[metric]?.[stat];
    if (x === undefined || typeof y !== "number" || !Number.isFinite(y) || (typeof x === "number" && !Number.isFinite(x))) {
      missing++;
      continue;
    }
    raw.push({ run, x, y });
  }
  const numeric = raw.length > 0 && raw.every((p) => typeof p.x === "number");
  const points = raw.map((p) => ({ id: p.run.id, name: p.run.record.name, x: numeric ? p.x : String(p.x), y: p.y, color: colorOf.get(p.run.id) ?? "" }));
  const categories = numeric ? [] : [...new Set(points.map((p) => String(p.x)))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return {
    points,
    xKind: numeric ? "num" : "cat",
    categories,
    missing,
    nonPositive: { x: numeric ? points.filter((p) => (p.x as number) <= 0).length : 0, y: points.filter((p) => p.y <= 0).length },
  };
}
