/**
 * Parallel coordinates over config keys and a metric, for every run the table shows: one
 * vertical axis per key (numbers on a linear scale, anything else as evenly spaced categories),
 * one line per run, drawn on a canvas (ten thousand runs draw in a frame or two). Dragging on an
 * axis brushes a range; the table then shows only the runs inside every brush. Focused on a
 * sweep, lines run from orange (worse) to green (better) by the metric's goal, the best run
 * drawn last, thick and blue, and named above the chart.
 */
import { Signal, type ISignal } from "@lumino/signaling";
import { formatNumber } from "../protocol";
import { onThemeChange, PALETTE } from "../theme";
import { configSortKey } from "../views/columns";
import { h } from "../views/dom";
import type { DashboardRun } from "./model";

/** One axis: its key, how values map to [0, 1] (bottom to top), and each run's position. */
export interface Axis {
  /** `config:<key>` or `metric:<name>.last`. */
  id: string;
  label: string;
  kind: "num" | "cat";
  /** Numeric axes: the range; categorical axes: the categories, bottom to top. */
  min?: number;
  max?: number;
  /** A numeric axis on a log scale. */
  log?: boolean;
  /** A numeric axis's labelled values: each of up to six distinct ones, else its ends. */
  ticks?: number[];
  categories?: string[];
  /** Per run (in the order given), its position in [0, 1], or null when it has no value. */
  positions: (number | null)[];
}

function valueOf(run: DashboardRun, id: string): unknown {
  if (id.startsWith("config:")) return configSortKey(run.config.get(id.slice(7)));
  const m = /^metric:(.*)\.last$/.exec(id);
  return m ? run.record.metrics[m[1]]?.last : undefined;
}

/**
 * The axes for these runs: numbers on a linear scale (a log scale where `log` says so for the
 * axis and its values, all positive), other values as sorted categories.
 */
export function parallelAxes(runs: readonly DashboardRun[], ids: readonly string[], log?: (id: string, nums: readonly number[]) => boolean): Axis[] {
  return ids.map((id) => {
    const values = runs.map((r) => valueOf(r, id));
    const label = id.slice(id.indexOf(":") + 1);
    const present = values.filter((v) => v !== undefined && v !== null);
    if (present.length > 0 && present.every((v) => typeof v === "number" && Number.isFinite(v))) {
      const nums = present as number[];
      let min = Infinity;
      let max = -Infinity;
      for (const v of nums) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const distinct = [...new Set(nums)].sort((a, b) => a - b);
      const ticks = distinct.length <= 6 ? distinct : [min, max];
      const logScale = min > 0 && log?.(id, nums) === true;
      const f = (v: number) => (logScale ? Math.log(v) : v);
      const span = f(max) - f(min);
      const at = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? (span === 0 ? 0.5 : (f(v) - f(min)) / span) : null);
      return { id, label, kind: "num", min, max, ...(logScale ? { log: true } : {}), ticks, positions: values.map(at) };
    }
    const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
    const categories = [...new Set(present.map(text))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const at = new Map(categories.map((c, i) => [c, categories.length === 1 ? 0.5 : i / (categories.length - 1)]));
    return { id, label, kind: "cat", categories, positions: values.map((v) => (v === undefined || v === null ? null : at.get(text(v)) ?? null)) };
  });
}

/** The runs (by index) inside every brush; a brush is a [low, high] range in [0, 1] of one axis. */
export function brushedRuns(axes: readonly Axis[], brushes: ReadonlyMap<string, [number, number]>, count: number): boolean[] {
  const keep = new Array<boolean>(count).fill(true);
  for (const a of axes) {
    const b = brushes.get(a.id);
    if (!b) continue;
    const [lo, hi] = b[0] <= b[1] ? b : [b[1], b[0]];
    for (let i = 0; i < count; i++) {
      const p = a.positions[i];
      if (p === null || p < lo || p > hi) keep[i] = false;
    }
  }
  return keep;
}

/** Which runs' lines are coloured by their metric, and which one is the best (a sweep's trials). */
export interface ParallelFocus {
  /** The best run's id, drawn last and thick. */
  best?: string;
  /** Which end of the last axis is better. */
  goal: "min" | "max";
  /** Said above the chart: the best run and its value. */
  label?: string;
}

const WORSE: [number, number, number] = [0xe3, 0x74, 0x00];
const BETTER: [number, number, number] = [0x18, 0x80, 0x38];

/** The colour of a line whose metric sits at `p` (0 bottom, 1 top) of its axis, for this goal. */
export function goalColor(p: number, goal: "min" | "max"): string {
  const t = goal === "min" ? 1 - p : p;
  const c = WORSE.map((w, i) => Math.round(w + (BETTER[i] - w) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

const PAD_TOP = 28;
const PAD_BOTTOM = 22;
const PAD_X = 60;

/** The parallel-coordinates view. */
export class ParallelView {
  readonly node: HTMLElement;

  constructor() {
    this._metric = h("select", { class: "jp-labnote-select jp-labnote-parallel-metric", title: "The metric on the last axis (its last value)" });
    this._clear = h("button", { class: "jp-labnote-button", text: "Clear brushes", title: "Show every run again" });
    this._canvas = h("canvas", { class: "jp-labnote-parallel-canvas" });
    this._note = h("span", { class: "jp-labnote-dashboard-label" });
    this._bestNote = h("span", { class: "jp-labnote-parallel-best", hidden: "" });
    this.node = h("div", { class: "jp-labnote-parallel" }, [
      h("div", { class: "jp-labnote-toolbar" }, [h("span", { class: "jp-labnote-section-title", text: "Parallel coordinates" }), this._metric, this._clear, this._note, this._bestNote]),
      this._canvas,
    ]);
    this._metric.addEventListener("change", () => this._changed.emit());
    this._clear.addEventListener("click", () => {
      this._brushes.clear();
      this._draw();
      this._brushed.emit();
    });
    this._canvas.addEventListener("pointerdown", (e) => this._down(e));
    this._canvas.addEventListener("pointermove", (e) => this._move(e));
    this._canvas.addEventListener("pointerup", () => this._up());
    // Colours come from the theme and the width from the page: draw again when either changes.
    this._unTheme = onThemeChange(() => {
      clearTimeout(this._redrawTimer);
      this._redrawTimer = window.setTimeout(() => this._draw(), 250);
    });
    this._resize = new ResizeObserver(() => {
      if (this.node.hidden || Math.abs(this._canvas.clientWidth - this._size.width) < 2) return;
      clearTimeout(this._redrawTimer);
      this._redrawTimer = window.setTimeout(() => this._draw(), 120);
    });
    this._resize.observe(this._canvas);
  }

  /** Stop following the theme and the size. */
  dispose(): void {
    this._unTheme();
    this._resize.disconnect();
    clearTimeout(this._redrawTimer);
  }

  /** The metric chosen for the last axis (`metric:<name>.last`), if any. */
  get metricAxis(): string | undefined {
    return this._metric.value ? `metric:${this._metric.value}.last` : undefined;
  }

  /** The axes or the metric choice changed: the dashboard gives new runs and axes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The brushes changed: the dashboard filters its table again. */
  get brushed(): ISignal<this, void> {
    return this._brushed;
  }

  /** Offer these metrics for the last axis. */
  setMetrics(names: readonly string[]): void {
    const now = this._metric.value;
    this._metric.replaceChildren(...names.map((n) => h("option", { value: n, text: n })));
    if (names.includes(now)) this._metric.value = now;
  }

  /** Put this metric on the last axis (when it is offered). */
  setMetric(name: string): void {
    if ([...this._metric.options].some((o) => o.value === name)) this._metric.value = name;
  }

  /** Colour lines by the last axis for a goal and mark the best run (undefined: one colour for all). */
  focus(f: ParallelFocus | undefined): void {
    this._focus = f;
    this._bestNote.textContent = f?.label ?? "";
    this._bestNote.hidden = !f?.label;
  }

  /** Draw these runs (the table's, before brushing) on these axes (`log`: which numeric axes take a log scale). */
  show(runs: readonly DashboardRun[], ids: readonly string[], log?: (id: string, nums: readonly number[]) => boolean): void {
    this._runs = runs;
    this._axes = parallelAxes(runs, ids, log);
    for (const id of [...this._brushes.keys()]) if (!ids.includes(id)) this._brushes.delete(id);
    this._draw();
  }

  /** Which of the runs given to show() are inside every brush (all when there is none). */
  inside(): Set<string> | undefined {
    if (this._brushes.size === 0) return undefined;
    const keep = brushedRuns(this._axes, this._brushes, this._runs.length);
    return new Set(this._runs.filter((_, i) => keep[i]).map((r) => r.id));
  }

  private _x(i: number, width: number): number {
    const n = this._axes.length;
    return n <= 1 ? width / 2 : PAD_X + (i * (width - 2 * PAD_X)) / (n - 1);
  }

  private _y(p: number, height: number): number {
    return PAD_TOP + (1 - p) * (height - PAD_TOP - PAD_BOTTOM);
  }

  private _draw(): void {
    const canvas = this._canvas;
    const width = Math.max(300, canvas.clientWidth || 800);
    const height = 260;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const style = getComputedStyle(this.node);
    const fg = style.getPropertyValue("--jp-ui-font-color1").trim() || "#333";
    const dim = style.getPropertyValue("--jp-ui-font-color2").trim() || "#777";
    const keep = brushedRuns(this._axes, this._brushes, this._runs.length);
    const shown = keep.filter(Boolean).length;
    this._note.textContent = this._axes.length ? `${shown} of ${this._runs.length} runs inside the brushes${this._brushes.size ? "" : " (drag on an axis to brush)"}` : "Choose config columns to see them here.";
    const line = (r: number) => {
      let started = false;
      this._axes.forEach((a, i) => {
        const p = a.positions[r];
        if (p === null) {
          started = false;
          return;
        }
        const x = this._x(i, width);
        const y = this._y(p, height);
        if (started) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        started = true;
      });
    };
    const focus = this._focus;
    const metricAxis = this._axes[this._axes.length - 1];
    // Lines: runs outside the brushes faint, inside in colour (by the metric, for a focus).
    for (const pass of focus && metricAxis ? [false] : [false, true]) {
      ctx.strokeStyle = pass ? PALETTE[0] : dim;
      ctx.globalAlpha = pass ? Math.max(0.15, Math.min(0.9, 30 / Math.max(1, shown))) : 0.08;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let r = 0; r < this._runs.length; r++) {
        if (keep[r] !== pass) continue;
        line(r);
      }
      ctx.stroke();
    }
    if (focus && metricAxis) {
      let best = -1;
      ctx.globalAlpha = Math.max(0.35, Math.min(0.9, 60 / Math.max(1, shown)));
      ctx.lineWidth = 1.5;
      for (let r = 0; r < this._runs.length; r++) {
        if (!keep[r]) continue;
        if (this._runs[r].id === focus.best) {
          best = r;
          continue;
        }
        const p = metricAxis.positions[r];
        ctx.strokeStyle = p === null ? dim : goalColor(p, focus.goal);
        ctx.beginPath();
        line(r);
        ctx.stroke();
      }
      if (best >= 0) {
        ctx.globalAlpha = 1;
        ctx.lineWidth = 3.5;
        ctx.strokeStyle = PALETTE[0];
        ctx.beginPath();
        line(best);
        ctx.stroke();
      }
      ctx.lineWidth = 1;
    }
    ctx.globalAlpha = 1;
    ctx.font = `11px ${style.getPropertyValue("--jp-ui-font-family") || "sans-serif"}`;
    this._axes.forEach((a, i) => {
      const x = this._x(i, width);
      ctx.strokeStyle = fg;
      ctx.beginPath();
      ctx.moveTo(x, this._y(0, height));
      ctx.lineTo(x, this._y(1, height));
      ctx.stroke();
      ctx.fillStyle = fg;
      ctx.textAlign = "center";
      ctx.fillText(a.label, x, 14);
      ctx.fillStyle = dim;
      const pos = (v: number) => (a.max === a.min ? 0.5 : a.log ? (Math.log(v) - Math.log(a.min!)) / (Math.log(a.max!) - Math.log(a.min!)) : (v - a.min!) / (a.max! - a.min!));
      const ticks = a.kind === "num" ? (a.ticks ?? [a.min!, a.max!]).map((v) => [pos(v), formatNumber(v)]) : (a.categories ?? []).map((c, k, all) => [all.length === 1 ? 0.5 : k / (all.length - 1), c]);
      ctx.textAlign = "left";
      // The ends first, then the values between that keep a line clear of every label drawn.
      const byPos = [...(ticks as [number, string][])].sort((a, b) => b[0] - a[0]);
      const drawn: number[] = [];
      for (const [p, text] of byPos.length > 2 ? [byPos[0], byPos[byPos.length - 1], ...byPos.slice(1, -1)] : byPos) {
        const y = this._y(p, height) + 4;
        if (drawn.some((d) => Math.abs(d - y) < 12)) continue;
        ctx.fillText(String(text).slice(0, 14), x + 4, y);
        drawn.push(y);
      }
      const b = this._brushes.get(a.id);
      if (b) {
        const [lo, hi] = b[0] <= b[1] ? b : [b[1], b[0]];
        ctx.fillStyle = PALETTE[1];
        ctx.globalAlpha = 0.25;
        ctx.fillRect(x - 8, this._y(hi, height), 16, this._y(lo, height) - this._y(hi, height));
        ctx.globalAlpha = 1;
      }
    });
    this._size = { width, height };
  }

  private _axisAt(x: number): number {
    let best = -1;
    let dist = 20;
    this._axes.forEach((_, i) => {
      const d = Math.abs(this._x(i, this._size.width) - x);
      if (d < dist) {
        dist = d;
        best = i;
      }
    });
    return best;
  }

  private _pos(e: PointerEvent): { x: number; p: number } {
    const rect = this._canvas.getBoundingClientRect();
    const y = e.clientY - rect.top;
    const p = 1 - (y - PAD_TOP) / (this._size.height - PAD_TOP - PAD_BOTTOM);
    return { x: e.clientX - rect.left, p: Math.max(0, Math.min(1, p)) };
  }

  private _down(e: PointerEvent): void {
    const { x, p } = this._pos(e);
    const i = this._axisAt(x);
    if (i < 0) return;
    this._drag = { axis: this._axes[i].id, from: p };
    this._brushes.set(this._drag.axis, [p, p]);
    this._canvas.setPointerCapture(e.pointerId);
  }

  private _move(e: PointerEvent): void {
    if (!this._drag) return;
    const { p } = this._pos(e);
    this._brushes.set(this._drag.axis, [this._drag.from, p]);
    this._draw();
  }

  private _up(): void {
    if (!this._drag) return;
    const b = this._brushes.get(this._drag.axis);
    // A click without a drag clears that axis's brush.
    if (b && Math.abs(b[1] - b[0]) < 0.01) this._brushes.delete(this._drag.axis);
    this._drag = undefined;
    this._draw();
    this._brushed.emit();
  }

  private _runs: readonly DashboardRun[] = [];
  private _axes: Axis[] = [];
  private readonly _brushes = new Map<string, [number, number]>();
  private _drag: { axis: string; from: number } | undefined;
  private _size = { width: 800, height: 260 };
  private readonly _metric: HTMLSelectElement;
  private readonly _clear: HTMLButtonElement;
  private readonly _canvas: HTMLCanvasElement;
  private readonly _note: HTMLElement;
  private readonly _bestNote: HTMLElement;
  private readonly _unTheme: () => void;
  private readonly _resize: ResizeObserver;
  private _redrawTimer = 0;
  private _focus: ParallelFocus | undefined;
  private readonly _changed = new Signal<this, void>(this);
  private readonly _brushed = new Signal<this, void>(this);
}
