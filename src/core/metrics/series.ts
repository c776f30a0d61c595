/**
 * One metric's points, held in fixed-size chunks of typed arrays: 24 bytes a point
 * (step, value, time as float64), no copying as it grows, no per-point objects.
 */
const SHIFT = 14;
const CHUNK = 1 << SHIFT; // 16,384 points a chunk
const MASK = CHUNK - 1;

export type { MetricSummary } from "../../protocol";
import type { MetricSummary, PointSlab } from "../../protocol";

export class Series {
  readonly name: string;
  count = 0;
  /** Points before this index are written to the store. */
  flushed = 0;
  /** Points before this index are folded into the summary. */
  summarized = 0;
  lastStep = -1;
  min = NaN;
  max = NaN;
  nan = 0;
  posInf = 0;
  negInf = 0;
  private steps: Float64Array[] = [];
  private values: Float64Array[] = [];
  private times: Float64Array[] = [];

  constructor(name: string) {
    this.name = name;
  }

  push(step: number, value: number, time: number): void {
    const i = this.count;
    const c = i >>> SHIFT;
    if (c === this.steps.length) {
      this.steps.push(new Float64Array(CHUNK));
      this.values.push(new Float64Array(CHUNK));
      this.times.push(new Float64Array(CHUNK));
    }
    const j = i & MASK;
    this.steps[c][j] = step;
    this.values[c][j] = value;
    this.times[c][j] = time;
    this.lastStep = step;
    this.count = i + 1;
  }

  step(i: number): number {
    return this.steps[i >>> SHIFT][i & MASK];
  }
  value(i: number): number {
    return this.values[i >>> SHIFT][i & MASK];
  }
  time(i: number): number {
    return this.times[i >>> SHIFT][i & MASK];
  }
  /** The chunk that holds point `i`: readers of many points loop over it directly. */
  slab(i: number): PointSlab {
    const c = i >>> SHIFT;
    const index = i & MASK;
    return { steps: this.steps[c], values: this.values[c], times: this.times[c], index, length: Math.min(CHUNK - index, this.count - i) };
  }

  /** Fold points not yet summarized into min/max; cheap enough to call on every flush. */
  summary(): MetricSummary {
    let { min, max } = this;
    // A chunk's array at a time: this runs over every point once, on the logging thread.
    for (let i = this.summarized; i < this.count; ) {
      const chunk = this.values[i >>> SHIFT];
      const end = Math.min(this.count, ((i >>> SHIFT) + 1) << SHIFT);
      for (let j = i & MASK; i < end; i++, j++) {
        const v = chunk[j];
        if (v - v !== 0) {
          if (v !== v) {
            this.nan++;
            continue;
          }
          if (v > 0) this.posInf++;
          else this.negInf++;
        }
        // NaN in min/max means "no point yet": the first one takes its place.
        if (!(v >= min)) min = v;
        if (!(v <= max)) max = v;
      }
    }
    this.min = min;
    this.max = max;
    this.summarized = this.count;
    const out: MetricSummary = { count: this.count, lastStep: this.lastStep, last: this.count ? this.value(this.count - 1) : NaN, min, max };
    if (this.nan) out.nan = this.nan;
    if (this.posInf) out.posInf = this.posInf;
    if (this.negInf) out.negInf = this.negInf;
    return out;
  }

  /** Copies of all points as plain typed arrays. */
  toArrays(): { steps: Float64Array; values: Float64Array; times: Float64Array } {
    return this.copyRange(0, this.count);
  }

  /** Copies of points [from, to) as plain typed arrays (a memcpy per chunk). */
  copyRange(from: number, to: number): { steps: Float64Array; values: Float64Array; times: Float64Array } {
    const n = Math.max(0, to - from);
    const steps = new Float64Array(n);
    const values = new Float64Array(n);
    const times = new Float64Array(n);
    for (let i = from; i < to; ) {
      const c = i >>> SHIFT;
      const j = i & MASK;
      const len = Math.min(CHUNK - j, to - i);
      const off = i - from;
      steps.set(this.steps[c].subarray(j, j + len), off);
      values.set(this.values[c].subarray(j, j + len), off);
      times.set(this.times[c].subarray(j, j + len), off);
      i += len;
    }
    return { steps, values, times };
  }

}
