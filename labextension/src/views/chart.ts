/**
 * One metric chart: a vega-embed view (canvas) drawing min/max buckets as a band and their
 * middle as a line, one colour per run, and a red tick at the top of every step whose bucket
 * holds NaN or ±Infinity points, so a diverging metric never reads as a healthy line. The spec is compiled once; new data goes in through a
 * changeset, coalesced to one redraw per animation frame, so updates neither flicker nor
 * rebuild the view. Kernel strings only ever travel as data values, never as field names or
 * expressions.
 */
import { changeset, truthy, type View } from "vega";
import embed, { type Result } from "vega-embed";
import { NONFINITE_COLOR, onThemeChange, PALETTE, vegaConfig } from "../theme";
import { recordTiming } from "../timing";
import type { ChartRow } from "./series";

/** How a chart is drawn. */
export interface ChartOptions {
  /** Plot height in pixels. */
  height?: number;
  /** Several runs, coloured in this order by the palette (compare charts; the legend is the host's). */
  runs?: string[];
  /** The colour of each of `runs` (default: the palette in order). */
  colors?: string[];
  /** Palette index of the single run's colour. */
  color?: number;
  /** Name under which redraw times are recorded when timing is on. */
  timingName?: string;
  /** The row field on the x-axis (default `step`); rows of the dashboard carry `x`. */
  xField?: string;
  /** The x values are times (ms since the epoch): a time axis. */
  xTemporal?: boolean;
  /** Axis titles (none by default: the card names its metric above the chart). */
  xTitle?: string;
  yTitle?: string;
  /** A log y-axis over this domain with these ticks (rows must hold only positive values or null). */
  logY?: { domain: [number, number]; ticks: number[] };
  /** Rows carry `smooth`: drawn as the line, the raw middle (`mid`) as a faint shadow under it. */
  smoothed?: boolean;
  /** Wheel zooms and dragging pans the x-axis; a double-click resets. */
  zoom?: boolean;
  /** The x-domain to start zoomed into. */
  zoomed?: [number, number];
  /** Called with the x-axis' domain when a zoom or pan changes it (null: reset), at most once per frame. */
  onZoom?: (domain: [number, number] | null) => void;
  /** Rows with `raw` set are exact points: hovering near one marks it and names its step and value in full. */
  hover?: boolean;
}

/**
 * The tooltip of a hovered exact point as a Vega expression: its run, x, step, value in full and
 * smoothed value. `datum.datum` is the point behind a nearest-point cell, `datum` the point itself.
 */
function hoverTooltip(x: string, o: ChartOptions): string {
  const r = "(datum.datum || datum)";
  const parts = [`"run": ${r}.run`];
  if (x !== "step" && (o.xTitle ?? x) !== "step") parts.push(`${JSON.stringify(o.xTitle ?? x)}: ${o.xTemporal ? `timeFormat(${r}[${JSON.stringify(x)}], "%H:%M:%S.%L")` : `format(${r}[${JSON.stringify(x)}], ".6~g")`}`);
  parts.push(`"step": format(${r}.step, ".17~g")`, `"value": format(${r}.mid, ".17~g")`);
  if (o.smoothed) parts.push(`"smoothed": format(${r}.smooth, ".4~g")`);
  return `{${parts.join(", ")}}`;
}

/** A live metric chart in `host`. Call `setData` as often as you like; call `dispose` when done. */
export class MetricChart {
  constructor(host: HTMLElement, options: ChartOptions = {}) {
    this._host = host;
    this._options = options;
    this._zoom = options.zoomed ?? null;
    this._resize = new ResizeObserver(() => this._onResize());
    this._resize.observe(host);
    // A theme switch swaps style sheets; let them settle before measuring and re-embedding.
    this._unTheme = onThemeChange(() => {
      clearTimeout(this._themeTimer);
      this._themeTimer = window.setTimeout(() => this._reembed(), 250);
    });
    this._reembed();
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Replace the chart's rows; the redraw happens on the next animation frame. */
  setData(rows: ChartRow[]): void {
    this._rows = rows;
    this._dirty = true;
    this._schedule();
  }

  /** Resolves once the rows given so far are drawn (at once when they are). */
  whenDrawn(): Promise<void> {
    if (!this._dirty && !this._drawing && !this._frame && this._view) return Promise.resolve();
    return new Promise((resolve) => this._waiting.push(resolve));
  }

  /** The plot's width in pixels (the data rectangle, without axes). */
  get plotWidth(): number {
    const w = this._view?.width();
    return typeof w === "number" && w > 0 ? w : Math.max(60, this._width() - 60);
  }

  /** The zoomed x-domain, or null when the chart shows all its rows. */
  get zoomDomain(): [number, number] | null {
    return this._zoom;
  }

  /** Finalize the Vega view and stop observing. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    if (this._frame) cancelAnimationFrame(this._frame);
    if (this._zoomFrame) cancelAnimationFrame(this._zoomFrame);
    clearTimeout(this._resizeTimer);
    clearTimeout(this._themeTimer);
    this._resize.disconnect();
    this._unTheme();
    this._result?.finalize();
    this._result = undefined;
    this._host.textContent = "";
    for (const w of this._waiting.splice(0)) w();
  }

  private _width(): number {
    return Math.max(120, Math.floor(this._host.clientWidth || 300));
  }

  private _spec(): Record<string, unknown> {
    this._specWidth = this._width();
    const runs = this._options.runs;
    const color = runs
      ? { field: "run", type: "nominal", legend: null, scale: { domain: runs, range: runs.map((_, i) => this._options.colors?.[i] ?? PALETTE[i % PALETTE.length]) } }
      : { value: PALETTE[(this._options.color ?? 0) % PALETTE.length] };
    const o = this._options;
    const x = o.xField ?? "step";
    const xAxis: Record<string, unknown> = o.xTemporal
      ? { tickCount: 5, grid: false, labelOverlap: true }
      : {
          tickCount: 5,
          grid: false,
          // Zoomed in far, ticks a few steps apart keep every digit (502,437, not 502k).
          labelExpr: "abs(datum.value) >= 10000 ? (span(domain('x')) * 100 >= abs(datum.value) ? format(datum.value, '.3~s') : format(datum.value, ',.12~r')) : format(datum.value, '~g')",
        };
    // Zoomed in, a linear y-axis fits what is in view (the `ydomain` signal; null: all rows).
    const fit = this._fitsY();
    const yScale: Record<string, unknown> = o.logY ? { type: "log", domain: o.logY.domain, nice: false } : { zero: false, nice: true, ...(fit ? { domainRaw: { expr: "ydomain" } } : {}) };
    const yAxis: Record<string, unknown> = o.logY
      ? { values: o.logY.ticks, labelExpr: "abs(datum.value) >= 10000 || abs(datum.value) < 0.001 ? format(datum.value, '.0e') : format(datum.value, '~g')", grid: true }
      : { tickCount: 4, format: "~g" };
    const line = o.smoothed ? "smooth" : "mid";
    const tooltip = [
      { field: "run", type: "nominal", title: "run" },
      ...(x === "step" ? [] : [{ field: x, type: o.xTemporal ? "temporal" : "quantitative", title: o.xTitle ?? x, ...(o.xTemporal ? { format: "%H:%M:%S" } : { format: ".4~g" }) }]),
      { field: "step", type: "quantitative", title: "step" },
      { field: "mid", type: "quantitative", title: "value", format: ".4~g" },
      ...(o.smoothed ? [{ field: "smooth", type: "quantitative", title: "smoothed", format: ".4~g" }] : []),
    ];
    return {
      data: { name: "points" },
      width: this._specWidth,
      height: o.height ?? 120,
      autosize: { type: "fit-x", contains: "padding", resize: true },
      config: vegaConfig(),
      ...(fit ? { params: [{ name: "ydomain", value: null }] } : {}),
      encoding: {
        x: { field: x, type: o.xTemporal ? "temporal" : "quantitative", title: o.xTitle ?? null, ...(o.xField ? { scale: o.xTemporal ? {} : { nice: false } } : {}), axis: xAxis },
      },
      layer: [
        {
          ...(o.zoom ? { params: [{ name: "zoom", select: { type: "interval", encodings: ["x"] }, bind: "scales" }] } : {}),
          mark: { type: "area", opacity: o.smoothed ? 0.12 : 0.22, clip: true },
          encoding: {
            y: { field: "lo", type: "quantitative", scale: yScale, title: o.yTitle ?? null, axis: yAxis },
            y2: { field: "hi" },
            color,
            detail: { field: "run" },
          },
        },
        ...(o.smoothed
          ? [
              {
                mark: { type: "line", strokeWidth: 1, opacity: 0.3, clip: true },
                encoding: { y: { field: "mid", type: "quantitative" }, color, detail: { field: "run" } },
              },
            ]
          : []),
        {
          mark: { type: "line", strokeWidth: 1.6, clip: true },
          encoding: {
            y: { field: line, type: "quantitative" },
            color,
            detail: { field: "run" },
            tooltip,
          },
        },
        ...(o.hover
          ? [
              {
                transform: [{ filter: "datum.raw" }],
                params: [{ name: "hover", select: { type: "point", on: "pointermove", nearest: true, clear: "pointerout" } }],
                // The tooltip as one expression: Vega-Lite's tooltip encoding reads nominal fields off
                // the nearest-point (voronoi) cell instead of its point, naming the run "undefined".
                mark: { type: "point", filled: true, size: 36, clip: true, tooltip: { expr: hoverTooltip(x, o) } },
                encoding: {
                  y: { field: "mid", type: "quantitative" },
                  color,
                  opacity: { condition: { param: "hover", empty: false, value: 1 }, value: 0 },
                },
              },
            ]
          : []),
        {
          transform: [{ filter: "datum.bad > 0" }],
          mark: { type: "tick", orient: "vertical", color: NONFINITE_COLOR, thickness: 2, size: 8, clip: true },
          encoding: {
            y: { value: 4 },
            tooltip: [
              { field: "run", type: "nominal", title: "run" },
              { field: "step", type: "quantitative", title: "from step" },
              { field: "bad", type: "quantitative", title: "NaN/∞ points" },
            ],
          },
        },
      ],
    };
  }

  private _reembed(): void {
    const token = ++this._generation;
    const old = this._result;
    this._result = undefined;
    this._view = undefined;
    const target = document.createElement("div");
    target.className = "jp-labnote-chart-canvas";
    void embed(target, this._spec() as never, { renderer: "canvas", actions: false, mode: "vega-lite", logLevel: 0 })
      .then((result) => {
        if (this._disposed || token !== this._generation) {
          result.finalize();
          return;
        }
        old?.finalize();
        this._host.replaceChildren(target);
        this._result = result;
        this._view = result.view;
        this._ydomain = null;
        if (this._options.zoom) {
          // A new view (a resize, a theme) keeps the zoom the old one had.
          if (this._zoom) result.view.signal("zoom_x", this._zoom);
          result.view.addSignalListener("zoom_x", (_name, value: unknown) => this._zoomed(value));
        }
        this._dirty = true;
        this._schedule();
        // The host may have been laid out (or shown) while the view was being made.
        if (Math.abs(this._width() - this._specWidth) >= 2) this._onResize();
      })
      .catch((e) => {
        if (!this._disposed && token === this._generation) {
          old?.finalize();
          this._host.textContent = `chart failed: ${e instanceof Error ? e.message : String(e)}`;
          for (const w of this._waiting.splice(0)) w();
        }
      });
  }

  private _zoomed(value: unknown): void {
    const d = Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number" || v instanceof Date) ? ([+value[0], +value[1]] as [number, number]) : null;
    this._zoom = d && d[0] > d[1] ? [d[1], d[0]] : d;
    if (this._zoomFrame || !this._options.onZoom) return;
    this._zoomFrame = requestAnimationFrame(() => {
      this._zoomFrame = 0;
      if (this._disposed) return;
      if (this._fitY()) void this._view?.runAsync();
      this._options.onZoom?.(this._zoom);
    });
  }

  private _fitsY(): boolean {
    return !!this._options.zoom && !this._options.logY;
  }

  /** Set the y-domain to the rows in the zoomed x-range (padded), or back to all rows; true when it changed. */
  private _fitY(): boolean {
    const view = this._view;
    if (!view || !this._fitsY()) return false;
    let next: [number, number] | null = null;
    const z = this._zoom;
    if (z) {
      const xf = this._options.xField ?? "step";
      let lo = Infinity;
      let hi = -Infinity;
      for (const r of this._rows as unknown as Record<string, number | null>[]) {
        const x = r[xf];
        if (x === null || x < z[0] || x > z[1]) continue;
        for (const v of [r.lo, r.hi, r.mid, r.smooth]) {
          if (typeof v !== "number" || !Number.isFinite(v)) continue;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      if (lo <= hi) {
        const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
        next = [lo - pad, hi + pad];
      }
    }
    const now = this._ydomain;
    if (now === next || (now && next && now[0] === next[0] && now[1] === next[1])) return false;
    this._ydomain = next;
    view.signal("ydomain", next);
    return true;
  }

  private _onResize(): void {
    if (this._disposed) return;
    // The compiled spec fixes its layout at embed time, so a new width means a new embed;
    // debounced, because dragging a sidebar fires this on every frame.
    clearTimeout(this._resizeTimer);
    this._resizeTimer = window.setTimeout(() => {
      if (!this._disposed && Math.abs(this._width() - this._specWidth) >= 2) this._reembed();
    }, 120);
  }

  private _schedule(): void {
    if (this._frame || this._disposed || !this._view || this._drawing) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      void this._draw();
    });
  }

  private async _draw(): Promise<void> {
    const view = this._view;
    if (!view || this._disposed) return;
    this._drawing = true;
    const t0 = performance.now();
    try {
      if (this._dirty) {
        this._dirty = false;
        view.change("points", changeset().remove(truthy).insert(this._rows));
        this._fitY();
      }
      await view.runAsync();
      recordTiming(this._options.timingName ?? "chart-redraw", performance.now() - t0);
    } catch {
      // a view finalized mid-draw: nothing to do
    } finally {
      this._drawing = false;
    }
    if (this._dirty) {
      this._schedule();
      return;
    }
    for (const w of this._waiting.splice(0)) w();
    // A size change that no observer reported (a host measured mid-layout) is caught here.
    if (Math.abs(this._width() - this._specWidth) >= 2) this._onResize();
  }

  private _host: HTMLElement;
  private _options: ChartOptions;
  private _rows: ChartRow[] = [];
  private _dirty = false;
  private _drawing = false;
  private _frame = 0;
  private _generation = 0;
  private _resizeTimer = 0;
  private _themeTimer = 0;
  private _specWidth = 0;
  private _result: Result | undefined;
  private _view: View | undefined;
  private _resize: ResizeObserver;
  private _unTheme: () => void;
  private _disposed = false;
  private _zoom: [number, number] | null = null;
  private _zoomFrame = 0;
  private _ydomain: [number, number] | null = null;
  private _waiting: (() => void)[] = [];
}
