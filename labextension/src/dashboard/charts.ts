/**
 * The dashboard's charts of the selected runs: one chart per metric, every run overlaid in its
 * palette colour under one shared legend; the x-axis by step, wall time or time since the run
 * started; an exponential moving average over steps (the protocol's, so the summary's buckets
 * and the full column draw the same curve) with the raw curve as a faint shadow; a log y-axis
 * that leaves out values ≤ 0 and says how many; axis titles. Drawn from each metric's summary
 * (a few KB however long the run), or for runs written before the summaries from their
 * metrics.csv reduced the same way. The pure part (rows from summaries) is exported for tests.
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
} from "../protocol";
import type { RunStore } from "../model/store";
import { PALETTE } from "../theme";
import { MetricChart } from "../views/chart";
import { configDiffTable } from "../views/compare";
import { h, setText } from "../views/dom";
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
}

/** A chart row of the dashboard: the card's row, plus the x value and the smoothed middle. */
export interface DashChartRow extends ChartRow {
  x: number;
  smooth: number | null;
}

/** A metric's chart, ready to draw: its rows, axis titles, the log axis, and what was left out. */
export interface MetricPlot {
  rows: DashChartRow[];
  xTitle: string;
  xTemporal: boolean;
  logY?: LogAxis;
  /** Buckets with a value ≤ 0, left out on a log axis. */
  skipped: number;
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
      rows.push({ run: label, step: trace.steps[i], x, lo, hi, mid, smooth: sm, bad: trace.bad[i] });
    }
  }
  const plot: MetricPlot = {
    rows,
    xTitle: settings.x === "step" ? "step" : settings.x === "wall" ? "wall time" : el.title,
    xTemporal: settings.x === "wall",
    skipped,
  };
  if (settings.log) plot.logY = logAxis(min, max) ?? { domain: [0.1, 10], ticks: [0.1, 1, 10] };
  return plot;
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

/** Charts of at most this many selected runs are drawn. */
export const CHARTED = 10;

/** The charts of the selected runs, with their controls and the config keys where the runs differ. */
export class DashboardCharts {
  readonly node = h("div", { class: "jp-labnote-compare jp-labnote-dashboard-charts", hidden: "" });

  constructor() {
    this._x = h("select", { class: "jp-labnote-select jp-labnote-charts-x", title: "What the x-axis shows" }, [
      h("option", { value: "step", text: "x: step" }),
      h("option", { value: "wall", text: "x: wall time" }),
      h("option", { value: "elapsed", text: "x: time since start" }),
    ]);
    this._smooth = h("input", { class: "jp-labnote-charts-smoothing", type: "range", min: "0", max: "0.99", step: "0.01", value: "0", title: "Smoothing: an exponential moving average over steps; the raw curve stays as a faint shadow" });
    this._smoothValue = h("span", { class: "jp-labnote-charts-smoothing-value", text: "0" });
    this._log = h("input", { type: "checkbox", class: "jp-labnote-charts-log" });
    this._title = h("div", { class: "jp-labnote-section-title" });
    this._legend = h("div", { class: "jp-labnote-legend" });
    this._grid = h("div", { class: "jp-labnote-compare-charts jp-labnote-dashboard-chart-grid" });
    this._system = h("details", { class: "jp-labnote-dashboard-system", hidden: "" });
    this._diff = h("div", { class: "jp-labnote-dashboard-diff" });
    this.node.append(
      h("div", { class: "jp-labnote-charts-head" }, [
        this._title,
        h("div", { class: "jp-labnote-charts-controls" }, [
          this._x,
          h("label", { class: "jp-labnote-charts-control", title: this._smooth.title }, ["smoothing ", this._smooth, this._smoothValue]),
          h("label", { class: "jp-labnote-charts-control", title: "Logarithmic y-axis (values ≤ 0 are left out and counted)" }, [this._log, " log y"]),
        ]),
      ]),
      this._legend,
      this._grid,
      this._system,
      this._diff,
    );
    this._smooth.addEventListener("input", () => {
      this._settings.smoothing = Number(this._smooth.value);
      setText(this._smoothValue, this._settings.smoothing.toFixed(2));
      this._redraw(false);
    });
    this._x.addEventListener("change", () => {
      this._settings.x = this._x.value as XAxis;
      this._redraw(true);
    });
    this._log.addEventListener("change", () => {
      this._settings.log = this._log.checked;
      this._redraw(true);
    });
  }

  /** The current settings (x-axis, smoothing, log). */
  get settings(): Readonly<ChartSettings> {
    return this._settings;
  }

  /** Show these runs' metrics (none hides the view); at most {@link CHARTED} are charted. */
  async show(store: RunStore | undefined, selected: readonly DashboardRun[]): Promise<void> {
    const token = ++this._token;
    const runs = selected.slice(0, CHARTED);
    if (!store || runs.length === 0) {
      this._disposeCharts();
      this._data = [];
      this.node.hidden = true;
      return;
    }
    const data = await Promise.all(runs.map(async (run) => ({ run, traces: await runTraces(store, run) })));
    if (token !== this._token) return;
    this._data = data;
    this.node.hidden = false;
    const more = selected.length - runs.length;
    setText(this._title, `${runs.length === 1 ? "1 run" : `Comparing ${runs.length} runs`}${more > 0 ? ` (the first ${CHARTED} of ${selected.length} selected)` : ""}`);
    this._legend.replaceChildren(
      ...runs.map((r, i) => h("span", { class: "jp-labnote-legend-item", title: runLabel(r) }, [h("span", { class: "jp-labnote-swatch", style: `background:${PALETTE[i % PALETTE.length]}` }), runLabel(r)])),
    );
    this._diff.replaceChildren(...(runs.length > 1 ? [configDiffTable(runs)] : []));
    this._redraw(true);
  }

  /** Finalize every chart. */
  dispose(): void {
    this._disposeCharts();
  }

  /** Draw again: new charts when the axes change, else new rows into the same charts. */
  private _redraw(rebuild: boolean): void {
    const names = [...new Set(this._data.flatMap((d) => [...d.traces.keys()]))];
    const user = names.filter((n) => !isSystemMetric(n));
    const system = names.filter(isSystemMetric);
    if (rebuild || this._slots.length !== names.length) {
      this._disposeCharts();
      this._grid.replaceChildren(...(user.length ? [] : [h("div", { class: "jp-labnote-hint", text: "These runs logged no metrics." })]));
      const systemGrid = h("div", { class: "jp-labnote-compare-charts jp-labnote-dashboard-chart-grid" });
      this._system.replaceChildren(h("summary", { text: `System metrics (${system.length})` }), systemGrid);
      this._system.hidden = system.length === 0;
      for (const name of [...user, ...system]) {
        const plot = h("div", { class: "jp-labnote-chart" });
        const note = h("div", { class: "jp-labnote-chart-note" });
        const box = h("div", { class: "jp-labnote-metric", "data-metric": name }, [h("div", { class: "jp-labnote-metric-head" }, [h("span", { class: "jp-labnote-metric-name", text: name, title: name })]), plot, note]);
        (isSystemMetric(name) ? systemGrid : this._grid).append(box);
        this._slots.push({ name, plot, note });
      }
    }
    const labels = this._data.map((d) => runLabel(d.run));
    for (const slot of this._slots) {
      const traces = this._data.flatMap((d) => {
        const trace = d.traces.get(slot.name);
        return trace ? [{ label: runLabel(d.run), startTime: d.run.record.startTime, trace }] : [];
      });
      const p = metricPlot(traces, this._settings);
      setText(slot.note, skippedText(p.skipped));
      const logKey = p.logY ? `${p.logY.domain.join(",")}|${p.logY.ticks.join(",")}` : "";
      if (!slot.chart || slot.logKey !== logKey) {
        slot.chart?.dispose();
        slot.chart = new MetricChart(slot.plot, {
          height: 150,
          runs: labels,
          timingName: "dashboard-chart-redraw",
          xField: "x",
          xTemporal: p.xTemporal,
          xTitle: p.xTitle,
          yTitle: slot.name,
          logY: p.logY,
          smoothed: true,
          zoom: true,
        });
        slot.logKey = logKey;
      }
      slot.chart.setData(p.rows);
    }
  }

  private _disposeCharts(): void {
    for (const s of this._slots) s.chart?.dispose();
    this._slots = [];
  }

  private readonly _x: HTMLSelectElement;
  private readonly _smooth: HTMLInputElement;
  private readonly _smoothValue: HTMLElement;
  private readonly _log: HTMLInputElement;
  private readonly _title: HTMLElement;
  private readonly _legend: HTMLElement;
  private readonly _grid: HTMLElement;
  private readonly _system: HTMLDetailsElement;
  private readonly _diff: HTMLElement;
  private _settings: ChartSettings = { x: "step", smoothing: 0, log: false };
  private _data: { run: DashboardRun; traces: Map<string, Trace> }[] = [];
  private _slots: { name: string; plot: HTMLElement; note: HTMLElement; chart?: MetricChart; logKey?: string }[] = [];
  private _token = 0;
}

/** A run's metrics as traces: from the summaries of metrics format 2, else from metrics.csv. */
export async function runTraces(store: RunStore, run: DashboardRun): Promise<Map<string, Trace>> {
  const out = new Map<string, Trace>();
  const summaries = await store.summaries(run);
  if (summaries) {
    for (const s of summaries) out.set(s.name, traceFromSummary(s));
    return out;
  }
  for (const [name, p] of await store.points(run)) out.set(name, traceFromPoints(name, p, run.record.metrics[name]));
  return out;
}
