/**
 * A scatter of one config key against one metric summary (last, min or max) for every run the
 * table shows: numbers on a linear or log axis, other values as categories. Hovering a point
 * names its run; clicking it selects the run in the table. The selected runs keep their chart
 * colours, so a point here and a curve in the charts read as the same run.
 */
import { Signal, type ISignal } from "@lumino/signaling";
import type { View } from "vega";
import embed, { type Result } from "vega-embed";
import { logAxis, type LogAxis } from "../protocol";
import { onThemeChange, vegaConfig } from "../theme";
import { h, setText } from "../views/dom";
import type { DashboardRun } from "./model";
import { scatterData, type Stat } from "./plots";

/** The scatter view: choosers for the key, the metric and its summary, log axes, and the plot. */
export class ScatterView {
  readonly node: HTMLElement;

  constructor() {
    this._key = h("select", { class: "jp-labnote-select jp-labnote-scatter-key", title: "The config key on the x-axis" });
    this._metric = h("select", { class: "jp-labnote-select jp-labnote-scatter-metric", title: "The metric on the y-axis" });
    this._stat = h("select", { class: "jp-labnote-select jp-labnote-scatter-stat", title: "Which summary of the metric" }, [
      h("option", { value: "last", text: "last" }),
      h("option", { value: "min", text: "min" }),
      h("option", { value: "max", text: "max" }),
    ]);
    this._logX = h("input", { type: "checkbox", class: "jp-labnote-scatter-logx" });
    this._logY = h("input", { type: "checkbox", class: "jp-labnote-scatter-logy" });
    this._note = h("span", { class: "jp-labnote-dashboard-label jp-labnote-scatter-note" });
    this._plot = h("div", { class: "jp-labnote-scatter-plot" });
    this.node = h("div", { class: "jp-labnote-scatter" }, [
      h("div", { class: "jp-labnote-charts-head" }, [
        h("div", { class: "jp-labnote-charts-controls" }, [
          this._key,
          h("span", { class: "jp-labnote-dashboard-label", text: "against" }),
          this._metric,
          this._stat,
          h("label", { class: "jp-labnote-charts-control", title: "Logarithmic x-axis (values ≤ 0 are left out)" }, [this._logX, " log x"]),
          h("label", { class: "jp-labnote-charts-control", title: "Logarithmic y-axis (values ≤ 0 are left out)" }, [this._logY, " log y"]),
          this._note,
        ]),
      ]),
      this._plot,
    ]);
    for (const el of [this._key, this._metric, this._stat, this._logX, this._logY]) el.addEventListener("change", () => this._draw());
    this._resize = new ResizeObserver(() => {
      clearTimeout(this._resizeTimer);
      this._resizeTimer = window.setTimeout(() => {
        if (!this.node.hidden && Math.abs(this._plot.clientWidth - this._width) >= 2) this._draw();
      }, 120);
    });
    this._resize.observe(this._plot);
    this._unTheme = onThemeChange(() => {
      clearTimeout(this._themeTimer);
      this._themeTimer = window.setTimeout(() => this._draw(), 250);
    });
  }

  /** A point was clicked: the id of its run. */
  get picked(): ISignal<this, string> {
    return this._picked;
  }

  /** Offer these config keys (varying ones first) and metrics; keeps the choices that still exist. */
  setChoices(keys: readonly string[], metrics: readonly string[]): void {
    const fill = (sel: HTMLSelectElement, values: readonly string[]) => {
      const now = sel.value;
      sel.replaceChildren(...values.map((v) => h("option", { value: v, text: v })));
      if (values.includes(now)) sel.value = now;
    };
    fill(this._key, keys);
    fill(this._metric, metrics.filter((m) => !m.startsWith("system/")).concat(metrics.filter((m) => m.startsWith("system/"))));
  }

  /** Draw these runs (the table's); the selected ones (id → chart colour) keep their chart colours. */
  show(runs: readonly DashboardRun[], selected: ReadonlyMap<string, string>): void {
    this._runs = runs;
    this._selected = selected;
    if (!this.node.hidden) this._draw();
  }

  /** Finalize the Vega view and stop observing. */
  dispose(): void {
    this._resize.disconnect();
    this._unTheme();
    clearTimeout(this._resizeTimer);
    clearTimeout(this._themeTimer);
    this._result?.finalize();
    this._result = undefined;
  }

  /** Draw now (the dashboard calls it when the scatter is shown). */
  redraw(): void {
    this._draw();
  }

  private _draw(): void {
    const key = this._key.value;
    const metric = this._metric.value;
    if (!key || !metric) {
      this._result?.finalize();
      this._result = undefined;
      this._plot.replaceChildren(h("div", { class: "jp-labnote-hint", text: "The scatter needs a config key and a metric: these runs have no config or no metrics." }));
      setText(this._note, "");
      return;
    }
    const stat = this._stat.value as Stat;
    const d = scatterData(this._runs, key, metric, stat, this._selected);
    const logX = this._logX.checked && d.xKind === "num";
    const logY = this._logY.checked;
    const points = d.points.filter((p) => (!logX || (p.x as number) > 0) && (!logY || p.y > 0));
    const left = d.points.length - points.length;
    setText(this._note, [`${points.length} runs`, d.missing ? `${d.missing} without ${key} or ${metric}.${stat}` : "", left ? `${left} with values ≤ 0 left out (log)` : ""].filter(Boolean).join(" · "));
    const axis = (values: number[], on: boolean): LogAxis | undefined => (on && values.length ? logAxis(Math.min(...values), Math.max(...values)) : undefined);
    const lx = axis(points.map((p) => p.x as number), logX);
    const ly = axis(points.map((p) => p.y), logY);
    const logLabels = "abs(datum.value) >= 10000 || abs(datum.value) < 0.001 ? format(datum.value, '.0e') : format(datum.value, '~g')";
    const css = getComputedStyle(document.body);
    const fg = css.getPropertyValue("--jp-ui-font-color2").trim() || "#888";
    const bg = css.getPropertyValue("--jp-layout-color1").trim() || "#fff";
    this._width = Math.max(200, this._plot.clientWidth || 600);
    // Unselected runs first, so the selected ones are drawn on top.
    const rows = [...points.filter((p) => !p.color).map((p) => ({ ...p, color: fg, sel: 0 })), ...points.filter((p) => p.color).map((p) => ({ ...p, sel: 1 }))];
    const spec = {
      width: this._width,
      height: 260,
      autosize: { type: "fit-x", contains: "padding" },
      config: vegaConfig(),
      data: { values: rows },
      mark: { type: "point", filled: true, cursor: "pointer", strokeWidth: 1 },
      encoding: {
        x:
          d.xKind === "num"
            ? { field: "x", type: "quantitative", title: key, scale: lx ? { type: "log", domain: lx.domain, nice: false, padding: 14 } : { zero: false, nice: true, padding: 14 }, axis: lx ? { values: lx.ticks, labelExpr: logLabels } : { labelOverlap: true, format: "~g" } }
            : { field: "x", type: "ordinal", title: key, sort: d.categories, axis: { labelLimit: 140, labelOverlap: true } },
        y: { field: "y", type: "quantitative", title: `${metric}.${stat}`, scale: ly ? { type: "log", domain: ly.domain, nice: false, padding: 12 } : { zero: false, nice: true, padding: 12 }, axis: ly ? { values: ly.ticks, labelExpr: logLabels } : { format: "~g", tickCount: 5 } },
        color: { field: "color", type: "nominal", scale: null, legend: null },
        opacity: { condition: { test: "datum.sel > 0", value: 1 }, value: 0.6 },
        size: { condition: { test: "datum.sel > 0", value: 120 }, value: 70 },
        stroke: { condition: { test: "datum.sel > 0", value: bg }, value: null },
        tooltip: [
          { field: "id", type: "nominal", title: "run" },
          { field: "name", type: "nominal", title: "name" },
          { field: "x", type: d.xKind === "num" ? "quantitative" : "nominal", title: key },
          { field: "y", type: "quantitative", title: `${metric}.${stat}`, format: ".4~g" },
        ],
      },
    };
    const token = ++this._generation;
    const target = h("div", { class: "jp-labnote-scatter-canvas" });
    // SVG keeps each point an element (hover and click land on it); many runs draw faster on a canvas.
    void embed(target, spec as never, { renderer: rows.length > 3000 ? "canvas" : "svg", actions: false, mode: "vega-lite", logLevel: 0 }).then(
      (result) => {
        if (token !== this._generation) {
          result.finalize();
          return;
        }
        this._result?.finalize();
        this._result = result;
        this._plot.replaceChildren(target);
        const view: View = result.view;
        view.addEventListener("click", (_e, item) => {
          const id = (item as { datum?: { id?: unknown } } | null | undefined)?.datum?.id;
          if (typeof id === "string") this._picked.emit(id);
        });
      },
      (e) => {
        if (token === this._generation) this._plot.textContent = `scatter failed: ${e instanceof Error ? e.message : String(e)}`;
      },
    );
  }

  private readonly _key: HTMLSelectElement;
  private readonly _metric: HTMLSelectElement;
  private readonly _stat: HTMLSelectElement;
  private readonly _logX: HTMLInputElement;
  private readonly _logY: HTMLInputElement;
  private readonly _note: HTMLElement;
  private readonly _plot: HTMLElement;
  private readonly _picked = new Signal<this, string>(this);
  private readonly _resize: ResizeObserver;
  private readonly _unTheme: () => void;
  private _resizeTimer = 0;
  private _themeTimer = 0;
  private _width = 0;
  private _generation = 0;
  private _result: Result | undefined;
  private _runs: readonly DashboardRun[] = [];
  private _selected: ReadonlyMap<string, string> = new Map();
}
