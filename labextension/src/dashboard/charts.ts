/**
 * The dashboard's charts of the selected runs: one chart per metric, every run overlaid in its
 * palette colour under one shared legend; the x-axis by step, wall time or time since the run
 * started; an exponential moving average over steps (the protocol's, so the summary's buckets
 * and the full column draw the same curve) with the raw curve as a faint shadow; a log y-axis
 * that leaves out values ≤ 0 and says how many; axis titles. Drawn from each metric's summary
 * (a few KB however long the run), or for runs written before the summaries from their
 * metrics.csv reduced the same way (see plots.ts).
 */
import type { RunStore } from "../model/store";
import { MetricChart } from "../views/chart";
import { configDiffTable } from "../views/compare";
import { h, setText } from "../views/dom";
import type { DashboardRun } from "./model";
import { isSystemMetric, metricPlot, runLabel, runTraces, skippedText, slotColor, type ChartSettings, type Trace, type XAxis } from "./plots";

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
  async show(store: RunStore | undefined, selected: readonly DashboardRun[], slots: ReadonlyMap<string, number> = new Map()): Promise<void> {
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
    this._colors = runs.map((r, i) => slotColor(slots.get(r.id) ?? i));
    this.node.hidden = false;
    const more = selected.length - runs.length;
    setText(this._title, `${runs.length === 1 ? "1 run" : `Comparing ${runs.length} runs`}${more > 0 ? ` (the first ${CHARTED} of ${selected.length} selected)` : ""}`);
    this._legend.replaceChildren(
      ...runs.map((r, i) => h("span", { class: "jp-labnote-legend-item", title: runLabel(r) }, [h("span", { class: "jp-labnote-swatch", style: `background:${this._colors[i]}` }), runLabel(r)])),
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
          colors: this._colors,
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
  private _colors: string[] = [];
  private _token = 0;
}
