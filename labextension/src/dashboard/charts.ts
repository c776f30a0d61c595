/**
 * The dashboard's charts of the selected runs: one chart per metric, every run overlaid in its
 * palette colour under one shared legend; the x-axis by step, wall time or time since the run
 * started; an exponential moving average over steps (the protocol's, so the summary's buckets
 * and the full column draw the same curve) with the raw curve as a faint shadow; a log y-axis
 * that leaves out values ≤ 0 and says how many; axis titles. Drawn from each metric's summary
 * (a few KB however long the run), or for runs written before the summaries from their
 * metrics.csv reduced the same way (see plots.ts).
 *
 * Zoomed in (wheel, drag to pan) so far that the summary's buckets in view are coarser than two
 * pixels, a chart reads the raw points of just the range in view (byte ranges of the metric's
 * column, model/points.ts) and draws them in place of those buckets, exact up to
 * {@link RAW_DRAW_PER_PX} points per pixel and reduced by the writer's rule beyond; a
 * double-click (or zooming back out) returns to the summaries. Running runs redraw as their
 * summaries change on disk.
 */
import { formatNumber, estimateRange, rawWanted, sliceRange, type PointSlice } from "../protocol";
import { PointsReader, type PointsResult } from "../model/points";
import type { RunStore } from "../model/store";
import { recordTiming } from "../timing";
import { MetricChart } from "../views/chart";
import { configDiffTable } from "../views/compare";
import { h, setText } from "../views/dom";
import type { DashboardRun } from "./model";
import { isSystemMetric, metricPlot, runLabel, runMetrics, skippedText, slotColor, withRaw, xWindow, type ChartSettings, type PointsSource, type Trace, type XAxis } from "./plots";

/** Charts of at most this many selected runs are drawn. */
export const CHARTED = 10;

/** At most this many raw points per pixel of a chart's width are read per run for a zoomed range (beyond, the summary stays). */
export const RAW_READ_PER_PX = 16;

/** At most this many raw points per pixel are drawn per run; more are reduced to min/max buckets. */
export const RAW_DRAW_PER_PX = 4;

/** How long a zoom must rest before its raw points are read, in ms (a wheel turn is many small zooms). */
const ZOOM_SETTLE_MS = 60;

/** One run's metrics: their traces (from the summaries) and where their raw points are. */
interface RunData {
  run: DashboardRun;
  metrics: Map<string, { trace: Trace; source: PointsSource }>;
}

/** What a zoomed chart read for one run: its window, and the raw points or why there are none. */
interface RawEntry {
  /** The window and the summary's count it was read for (a running run's grows). */
  id: string;
  key: "step" | "time";
  slice?: PointSlice;
  /** Why the window has no raw points drawn (too many, an error), for the note under the chart. */
  why?: string;
  points?: number;
  /** The summary's point count when it was read (a running run's grows). */
  count?: number;
  /** The range in view now (inside the one read, when zoomed in further since). */
  window?: [number, number];
}

/** One metric's chart and its state. */
interface Slot {
  name: string;
  box: HTMLElement;
  plot: HTMLElement;
  note: HTMLElement;
  chart?: MetricChart;
  logKey?: string;
  skipped?: string;
  elapsedMs: number;
  raw: Map<string, RawEntry>;
  timer: number;
  token: number;
}

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
  async show(store: RunStore | undefined, selected: readonly DashboardRun[], slots: ReadonlyMap<string, number> = new Map()): Promise<void> {
    const token = ++this._token;
    const runs = selected.slice(0, CHARTED);
    if (!store || runs.length === 0) {
      this._disposeCharts();
      this._data = [];
      this.node.hidden = true;
      return;
    }
    const t0 = performance.now();
    this.node.dataset.state = "loading";
    const data = await Promise.all(runs.map(async (run) => ({ run, metrics: await runMetrics(store, run) })));
    if (token !== this._token) return;
    this._data = data;
    this._colors = runs.map((r, i) => slotColor(slots.get(r.id) ?? i));
    this.node.hidden = false;
    const more = selected.length - runs.length;
    setText(this._title, `${runs.length === 1 ? "1 run" : `Comparing ${runs.length} runs`}${more > 0 ? ` (the first ${CHARTED} of ${selected.length} selected)` : ""}`);
    this._legend.replaceChildren(
      ...runs.map((r, i) => h("span", { class: "jp-labnote-legend-item", title: runLabel(r) }, [h("span", { class: "jp-labnote-swatch", style: `background:${this._colors[i]}` }), runLabel(r)])),
    );
    this._diff.replaceChildren(...(runs.length > 1 ? [configDiffTable(runs)] : []));
    this._redraw(true);
    await this._drawn(token);
    if (token !== this._token) return;
    this.node.dataset.state = "drawn";
    recordTiming("dashboard-charts-shown", performance.now() - t0);
  }

  /**
   * The same runs again, some of them changed (a running run's summaries, a status): their
   * metrics read anew and drawn into the same charts, zoomed ranges read again where the run grew.
   * Runs other than the charted ones are for {@link show}.
   */
  async refresh(store: RunStore | undefined, selected: readonly DashboardRun[]): Promise<void> {
    const runs = selected.slice(0, CHARTED);
    if (!store || runs.length !== this._data.length || runs.some((r, i) => r.id !== this._data[i].run.id)) return;
    const changed = runs.flatMap((r, i) => (r !== this._data[i].run ? [i] : []));
    if (!changed.length) return;
    if (this._refreshing) {
      // One refresh at a time; the newest runs are drawn once it is done.
      this._pending = { store, selected };
      return;
    }
    const token = this._token;
    this._refreshing = true;
    try {
      const fresh = await Promise.all(changed.map(async (i) => ({ i, data: { run: runs[i], metrics: await runMetrics(store, runs[i]) } })));
      if (token !== this._token) return;
      for (const { i, data } of fresh) this._data[i] = data;
      this._redraw(false);
      for (const slot of this._slots) if (slot.chart?.zoomDomain) void this._loadRaw(slot);
    } finally {
      this._refreshing = false;
      const again = this._pending;
      this._pending = undefined;
      if (again) void this.refresh(again.store, again.selected);
    }
  }

  /** Resolves once every chart drew what it was given (or the charts were replaced). */
  private async _drawn(token: number): Promise<void> {
    while (token === this._token) {
      const charts = this._slots.map((s) => s.chart);
      await Promise.all(charts.map((c) => c?.whenDrawn()));
      // A chart re-made meanwhile (a log axis with new ticks) is waited for too.
      if (this._slots.every((s, i) => s.chart === charts[i])) return;
    }
  }

  /** Finalize every chart. */
  dispose(): void {
    this._disposeCharts();
  }

  /** Draw again: new charts when the axes change, else new rows into the same charts. */
  private _redraw(rebuild: boolean): void {
    const names = [...new Set(this._data.flatMap((d) => [...d.metrics.keys()]))];
    const user = names.filter((n) => !isSystemMetric(n));
    const system = names.filter(isSystemMetric);
    if (rebuild || this._slots.length !== names.length || this._slots.some((s, i) => s.name !== [...user, ...system][i])) {
      this._disposeCharts();
      this._grid.replaceChildren(...(user.length ? [] : [h("div", { class: "jp-labnote-hint", text: "These runs logged no metrics." })]));
      const systemGrid = h("div", { class: "jp-labnote-compare-charts jp-labnote-dashboard-chart-grid" });
      this._system.replaceChildren(h("summary", { text: `System metrics (${system.length})` }), systemGrid);
      this._system.hidden = system.length === 0;
      for (const name of [...user, ...system]) {
        const plot = h("div", { class: "jp-labnote-chart" });
        const note = h("div", { class: "jp-labnote-chart-note" });
        const box = h("div", { class: "jp-labnote-metric", "data-metric": name, "data-source": "summary" }, [h("div", { class: "jp-labnote-metric-head" }, [h("span", { class: "jp-labnote-metric-name", text: name, title: name })]), plot, note]);
        (isSystemMetric(name) ? systemGrid : this._grid).append(box);
        this._slots.push({ name, box, plot, note, elapsedMs: 1000, raw: new Map(), timer: 0, token: 0 });
      }
    }
    for (const slot of this._slots) this._drawSlot(slot);
  }

  /** One metric's chart: every run's trace, with the raw points read for the zoomed range in place of its buckets. */
  private _drawSlot(slot: Slot): void {
    const labels = this._data.map((d) => runLabel(d.run));
    const cap = RAW_DRAW_PER_PX * (slot.chart?.plotWidth ?? 600);
    let exact = 0;
    let reduced = 0;
    let rawRuns = 0;
    const why = new Set<string>();
    const traces = this._data.flatMap((d) => {
      const m = d.metrics.get(slot.name);
      if (!m) return [];
      let trace = m.trace;
      const raw = slot.raw.get(d.run.id);
      // The points of the range in view (and one either side) of what was read.
      const slice = raw?.slice && raw.window ? (sliceRange(raw.slice, raw.window[0], raw.window[1], raw.key) ?? raw.slice) : raw?.slice;
      if (raw && slice && slice.steps.length) {
        trace = withRaw(trace, slice, raw.key, cap);
        rawRuns++;
        if (slice.steps.length <= cap) exact += slice.steps.length;
        else reduced += slice.steps.length;
      } else if (raw?.why) why.add(raw.why);
      return [{ label: runLabel(d.run), startTime: d.run.record.startTime, trace }];
    });
    const p = metricPlot(traces, this._settings);
    slot.elapsedMs = p.elapsedMs;
    const notes = [skippedText(p.skipped)];
    if (rawRuns) {
      const total = exact + reduced;
      notes.push(`raw points in view: ${formatNumber(total)}${rawRuns > 1 ? ` of ${rawRuns} runs` : ""}${reduced ? ` (${formatNumber(reduced)} drawn as min/max of ${formatNumber(cap)} buckets per run)` : ""}`);
    }
    for (const w of why) notes.push(w);
    setText(slot.note, notes.filter(Boolean).join(" · "));
    slot.box.dataset.source = rawRuns ? "raw" : "summary";
    const logKey = p.logY ? `${p.logY.domain.join(",")}|${p.logY.ticks.join(",")}` : "";
    if (!slot.chart || slot.logKey !== logKey) {
      // New log ticks need a new chart; it keeps the zoom (and so the raw points) of the old one.
      const zoom = slot.chart?.zoomDomain ?? undefined;
      slot.chart?.dispose();
      slot.chart = new MetricChart(slot.plot, {
        height: 150,
        runs: labels,
        colors: this._colors,
        timingName: "dashboard-chart-redraw",
        xField: "x",
        xTemporal: p.xTemporal,
        xTitle: p.xTitle,
        yTitle: slot.name,
        logY: p.logY,
        smoothed: true,
        zoom: true,
        hover: true,
        zoomed: zoom,
        onZoom: () => this._zoomed(slot),
      });
      slot.logKey = logKey;
    }
    slot.chart.setData(p.rows);
  }

  /** The chart's x-domain changed: read the raw points of the new range once the zoom rests. */
  private _zoomed(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = window.setTimeout(() => void this._loadRaw(slot), ZOOM_SETTLE_MS);
  }

  /**
   * Read what the zoomed range of `slot` needs: for each run whose buckets there are coarser than
   * two pixels, the raw points of that range (from its column by byte ranges, or sliced from the
   * points of its metrics.csv); none when the chart is not zoomed. Then draw.
   */
  private async _loadRaw(slot: Slot): Promise<void> {
    const chart = slot.chart;
    if (!chart || chart.isDisposed) return;
    const token = ++slot.token;
    const t0 = performance.now();
    const domain = chart.zoomDomain;
    const px = chart.plotWidth;
    const most = RAW_READ_PER_PX * px;
    const next = new Map<string, RawEntry>();
    let reads = 0;
    await Promise.all(
      this._data.map(async (d) => {
        const m = d.metrics.get(slot.name);
        if (!domain || !m) return;
        const w = xWindow(this._settings.x, domain, d.run.record.startTime, slot.elapsedMs);
        const keys = w.key === "step" ? m.trace.steps : m.trace.times;
        // The whole run in view is the summary's to draw.
        if (!keys.length || (w.lo <= keys[0] && w.hi >= keys[keys.length - 1])) return;
        const id = `${w.key}:${w.lo}:${w.hi}:${m.source.summary?.count ?? ""}`;
        const had = slot.raw.get(d.run.id);
        if (had?.id === id || (had?.slice && had.key === w.key && had.count === m.source.summary?.count && covers(had.slice, w.key, w.lo, w.hi))) {
          // The same range, or one inside what was read (zooming in further, a small pan): nothing to read.
          next.set(d.run.id, { ...had, window: [w.lo, w.hi] });
          return;
        }
        const inView = keys.filter((k) => k >= w.lo && k <= w.hi).length;
        if (m.source.points) {
          const slice = sliceRange(m.source.points, w.lo, w.hi, w.key);
          if (!slice) next.set(d.run.id, { id, key: w.key, why: `${runLabel(d.run)}: steps go down in this range (logged out of order), the summary is drawn` });
          else if (inView < px / 2 && slice.steps.length > inView) next.set(d.run.id, { id, key: w.key, slice, window: [w.lo, w.hi] });
          return;
        }
        const summary = m.source.summary;
        if (!rawWanted(estimateRange(summary, w.lo, w.hi, w.key), px, most, true)) return;
        reads++;
        next.set(d.run.id, { ...entry(id, w.key, d.run, await this._points.range(d.run.dir, slot.name, summary, w.lo, w.hi, w.key, most)), count: summary.count, window: [w.lo, w.hi] });
      }),
    );
    if (token !== slot.token || chart.isDisposed || chart !== slot.chart) return;
    const before = slot.raw;
    slot.raw = next;
    if (before.size === 0 && next.size === 0) return;
    this._drawSlot(slot);
    await chart.whenDrawn();
    if (reads && token === slot.token) recordTiming("dashboard-zoom-raw", performance.now() - t0);
  }

  private _disposeCharts(): void {
    for (const s of this._slots) {
      clearTimeout(s.timer);
      s.chart?.dispose();
    }
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
  private _data: RunData[] = [];
  private _slots: Slot[] = [];
  private _colors: string[] = [];
  private _token = 0;
  private _refreshing = false;
  private _pending: { store: RunStore; selected: readonly DashboardRun[] } | undefined;
  private readonly _points = new PointsReader();
}

/** Whether raw points read hold every point of `[lo, hi]` (their first key at or before it, their last at or after it). */
function covers(p: PointSlice, key: "step" | "time", lo: number, hi: number): boolean {
  const keys = key === "step" ? p.steps : p.times;
  return keys.length > 0 && keys[0] <= lo && keys[keys.length - 1] >= hi;
}

/** What a range read gives a chart: the points, or the words for why there are none. */
function entry(id: string, key: "step" | "time", run: DashboardRun, r: PointsResult): RawEntry {
  switch (r.kind) {
    case "points":
      return { id, key, slice: r };
    case "too-many":
      return { id, key, points: r.count };
    case "unordered":
      return { id, key, why: `${runLabel(run)}: steps go down in this range (logged out of order), the summary is drawn` };
    case "error":
      return { id, key, why: `${runLabel(run)}: raw points not read (${r.reason})` };
  }
}
