/**
 * Metric series reduced for charts: min/max buckets, the last point exact. The card, the panel
 * and the history view all draw from these, so a series looks the same wherever it is shown.
 */
import type { NumberList } from "./metrics";
import { toWire } from "./numbers";
import type { WireSeries } from "./wire";

/** Points read by position: a live series or arrays parsed from a file. */
export interface PointSource {
  readonly count: number;
  step(i: number): number;
  value(i: number): number;
}

/**
 * Reduce a series to at most `buckets` min/max buckets over its index range, keeping the
 * last point exact as its own bucket. NaN points are skipped for min/max unless a bucket
 * holds nothing else.
 * @example
 * const s = downsample(steps, values, steps.length, 200);
 */
export function downsample(steps: NumberList, values: NumberList, count: number, buckets = 200): WireSeries {
  return downsampleBy(
    (i) => steps[i],
    (i) => values[i],
    count,
    buckets,
  );
}

/** {@link downsample} over accessor functions, for storage that is not one array (chunked series). */
export function downsampleBy(stepAt: (i: number) => number, valueAt: (i: number) => number, count: number, buckets = 200): WireSeries {
  const out: WireSeries = { step: [], min: [], max: [] };
  if (count <= 0) return out;
  const body = count - 1; // the last point travels on its own
  const n = Math.max(1, buckets - 1);
  if (body <= n) {
    for (let i = 0; i < body; i++) {
      const v = valueAt(i);
      out.step.push(stepAt(i));
      out.min.push(toWire(v));
      out.max.push(toWire(v));
    }
  } else {
    const size = body / n;
    for (let b = 0; b < n; b++) {
      const from = Math.floor(b * size);
      const to = Math.min(body, Math.floor((b + 1) * size));
      if (to <= from) continue;
      let lo = Infinity;
      let hi = -Infinity;
      let seen = false;
      for (let i = from; i < to; i++) {
        const v = valueAt(i);
        if (v !== v) continue;
        seen = true;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      out.step.push(stepAt(from));
      out.min.push(seen ? toWire(lo) : "NaN");
      out.max.push(seen ? toWire(hi) : "NaN");
    }
  }
  out.step.push(stepAt(count - 1));
  out.min.push(toWire(valueAt(count - 1)));
  out.max.push(toWire(valueAt(count - 1)));
  return out;
}

/** Buckets kept per series before two neighbours merge into one (the width doubles). */
const KEEP = 512;

/**
 * A series' min/max buckets, kept up to date incrementally: each update folds in only the
 * points added since the last one, so a card update costs O(new points + buckets), not
 * O(all points). Bucket widths are powers of two in points, so merging stays exact.
 */
export class IncrementalBuckets {
  private width = 1;
  private folded = 0;
  private readonly step: number[] = [];
  private readonly min: number[] = [];
  private readonly max: number[] = [];

  /** Fold points [folded, series.count) into the buckets. */
  update(series: PointSource): void {
    const n = series.count;
    for (let i = this.folded; i < n; i++) {
      const b = Math.floor(i / this.width);
      const v = series.value(i);
      if (b === this.step.length) {
        this.step.push(series.step(i));
        this.min.push(v === v ? v : NaN);
        this.max.push(v === v ? v : NaN);
        if (this.step.length > KEEP) this.halve();
      } else if (v === v) {
        const lo = this.min[b];
        const hi = this.max[b];
        if (!(v >= lo)) this.min[b] = lo === lo ? Math.min(lo, v) : v;
        if (!(v <= hi)) this.max[b] = hi === hi ? Math.max(hi, v) : v;
      }
    }
    this.folded = n;
  }

  /** At most `buckets` buckets (neighbours merged as needed), then the last point exactly. */
  toWire(series: PointSource, buckets: number): WireSeries {
    this.update(series);
    const out: WireSeries = { step: [], min: [], max: [] };
    const n = series.count;
    if (n === 0) return out;
    const body = Math.max(1, buckets - 1);
    const group = Math.max(1, Math.ceil(this.step.length / body));
    for (let b = 0; b < this.step.length; b += group) {
      let lo = NaN;
      let hi = NaN;
      for (let k = b; k < Math.min(b + group, this.step.length); k++) {
        const a = this.min[k];
        const z = this.max[k];
        if (a === a) lo = lo === lo ? Math.min(lo, a) : a;
        if (z === z) hi = hi === hi ? Math.max(hi, z) : z;
      }
      out.step.push(this.step[b]);
      out.min.push(toWire(lo));
      out.max.push(toWire(hi));
    }
    const last = series.value(n - 1);
    out.step.push(series.step(n - 1));
    out.min.push(toWire(last));
    out.max.push(toWire(last));
    return out;
  }

  private halve(): void {
    const m = Math.ceil(this.step.length / 2);
    for (let k = 0; k < m; k++) {
      const a = 2 * k;
      const b = a + 1;
      this.step[k] = this.step[a];
      if (b < this.step.length) {
        const lo = [this.min[a], this.min[b]].filter((x) => x === x);
        const hi = [this.max[a], this.max[b]].filter((x) => x === x);
        this.min[k] = lo.length ? Math.min(...lo) : NaN;
        this.max[k] = hi.length ? Math.max(...hi) : NaN;
      } else {
        this.min[k] = this.min[a];
        this.max[k] = this.max[a];
      }
    }
    this.step.length = this.min.length = this.max.length = m;
    this.width *= 2;
  }
}
