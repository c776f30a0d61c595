/**
 * Metric series reduced for charts: min/max buckets, the last point exact. The card, the panel
 * and the history view all draw from these, so a series looks the same wherever it is shown.
 */
import type { NumberList, PointSource } from "./metrics";
import { fromWire, toWire } from "./numbers";
import type { WireSeries } from "./wire";
import type { MetricSummary } from "./record";
import { METRICS_FORMAT, SUMMARY_BUCKETS, type MetricSummaryFile } from "./columns";

/**
 * Reduce a series to at most `buckets` min/max buckets over its index range, keeping the last
 * point exact as its own bucket. Min and max are over finite points; NaN and ±Infinity points
 * are counted per bucket in `bad` (present only when there are any), so a chart can mark them
 * instead of drawing a diverging loss as a healthy line.
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

/** Ends a series: the last point exact, and `bad` dropped when no bucket has a non-finite point. */
function finish(out: { step: number[]; min: WireSeries["min"]; max: WireSeries["max"]; bad: number[] }, step: number, last: number): WireSeries {
  out.step.push(step);
  out.min.push(toWire(last));
  out.max.push(toWire(last));
  out.bad.push(Number.isFinite(last) ? 0 : 1);
  if (!out.bad.some((x) => x > 0)) delete (out as WireSeries).bad;
  return out;
}

/** {@link downsample} over accessor functions, for storage that is not one array (chunked series). */
export function downsampleBy(stepAt: (i: number) => number, valueAt: (i: number) => number, count: number, buckets = 200): WireSeries {
  const out = { step: [] as number[], min: [] as WireSeries["min"], max: [] as WireSeries["max"], bad: [] as number[] };
  if (count <= 0) return { step: [], min: [], max: [] };
  const body = count - 1; // the last point travels on its own
  const n = Math.max(1, buckets - 1);
  const size = body <= n ? 1 : body / n;
  const groups = body <= n ? body : n;
  for (let b = 0; b < groups; b++) {
    const from = Math.floor(b * size);
    const to = Math.min(body, Math.floor((b + 1) * size));
    if (to <= from) continue;
    let lo = Infinity;
    let hi = -Infinity;
    let bad = 0;
    for (let i = from; i < to; i++) {
      const v = valueAt(i);
      if (v - v !== 0) {
        bad++;
        continue;
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    out.step.push(stepAt(from));
    out.min.push(bad === to - from ? "NaN" : lo);
    out.max.push(bad === to - from ? "NaN" : hi);
    out.bad.push(bad);
  }
  return finish(out, stepAt(count - 1), valueAt(count - 1));
}

/**
 * A chart series from a metric's summary file alone: its buckets merged down to at most
 * `buckets` - 1 (neighbours folded, the same rule as {@link downsample}), then the last point
 * exact. So the panel draws a run of any length from a file of a few KB, without its points.
 * @example const p = parseMetricSummary(text); if (p.ok) draw(summarySeries(p.value, 200))
 */
export function summarySeries(summary: MetricSummaryFile, buckets = 200): WireSeries {
  const b = summary.buckets;
  const n = b.step.length;
  const out = { step: [] as number[], min: [] as WireSeries["min"], max: [] as WireSeries["max"], bad: [] as number[] };
  const group = Math.max(1, Math.ceil(n / Math.max(1, buckets - 1)));
  for (let k = 0; k < n; k += group) {
    let lo = Infinity;
    let hi = -Infinity;
    let bad = 0;
    for (let i = k; i < Math.min(n, k + group); i++) {
      const a = fromWire(b.min[i]);
      const z = fromWire(b.max[i]);
      if (a < lo) lo = a;
      if (z > hi) hi = z;
      bad += b.bad?.[i] ?? 0;
    }
    out.step.push(b.step[k]);
    out.min.push(lo === Infinity ? "NaN" : lo);
    out.max.push(hi === -Infinity ? "NaN" : hi);
    out.bad.push(bad);
  }
  const last = summary.lastPoint;
  if (last === undefined) {
    if (!out.bad.some((x) => x > 0)) return { step: out.step, min: out.min, max: out.max };
    return out;
  }
  return finish(out, last.step, fromWire(last.value));
}

/** Buckets kept per series before two neighbours merge into one (the width doubles). */
const KEEP = 512;

/**
 * A series' min/max buckets, kept up to date incrementally: each update folds in only the
 * points added since the last one, so a card update costs O(new points + buckets), not
 * O(all points). Bucket widths are powers of two in points, so merging stays exact. The same
 * rule as {@link downsample}: min and max over finite points, non-finite points counted.
 */
export class IncrementalBuckets {
  private width = 1;
  private folded = 0;
  private readonly step: number[] = [];
  private readonly time: number[] = [];
  private readonly min: number[] = [];
  private readonly max: number[] = [];
  private readonly bad: number[] = [];

  /** Fold points [folded, series.count) into the buckets, a bucket's run of points at a time. */
  update(series: PointSource): void {
    const n = series.count;
    let i = this.folded;
    while (i < n) {
      const b = Math.floor(i / this.width);
      if (b === this.step.length) {
        const v = series.value(i);
        const finite = v - v === 0;
        this.step.push(series.step(i));
        this.time.push(series.time(i));
        this.min.push(finite ? v : NaN);
        this.max.push(finite ? v : NaN);
        this.bad.push(finite ? 0 : 1);
        i++;
        if (this.step.length > KEEP) this.halve();
        continue;
      }
      const end = Math.min(n, (b + 1) * this.width);
      let lo = this.min[b];
      let hi = this.max[b];
      let bad = this.bad[b];
      while (i < end) {
        // A chunk's values at a time where the series offers them, else a point at a time.
        const slab = series.slab?.(i);
        const values = slab?.values;
        const k0 = slab ? slab.index : 0;
        const len = slab ? Math.min(slab.length, end - i) : 1;
        for (let k = k0; k < k0 + len; k++) {
          const v = values ? values[k] : series.value(i);
          if (v - v !== 0) bad++;
          else {
            // NaN in lo/hi means "no finite point yet": the first finite one takes its place.
            if (!(v >= lo)) lo = v;
            if (!(v <= hi)) hi = v;
          }
        }
        i += len;
      }
      this.min[b] = lo;
      this.max[b] = hi;
      this.bad[b] = bad;
    }
    this.folded = n;
  }

  /** At most `buckets` buckets (neighbours merged as needed), then the last point exactly. */
  toWire(series: PointSource, buckets: number): WireSeries {
    this.update(series);
    const n = series.count;
    if (n === 0) return { step: [], min: [], max: [] };
    const { step, min, max, bad } = this.merged(Math.max(1, buckets - 1));
    return finish({ step, min, max, bad }, series.step(n - 1), series.value(n - 1));
  }

  /**
   * The metric's summary file: its record summary, at most {@link SUMMARY_BUCKETS} buckets with
   * the first step and time of each, and the last point exact.
   */
  toSummary(name: string, series: PointSource, sum: MetricSummary, buckets = SUMMARY_BUCKETS): MetricSummaryFile {
    this.update(series);
    const n = series.count;
    const m = this.merged(buckets);
    const out: MetricSummaryFile = {
      format: METRICS_FORMAT,
      name,
      count: sum.count,
      lastStep: sum.lastStep,
      last: toWire(sum.last),
      min: toWire(sum.min),
      max: toWire(sum.max),
      width: this.width * m.group,
      buckets: { step: m.step, time: m.time, min: m.min, max: m.max },
    };
    if (m.bad.some((x) => x > 0)) out.buckets.bad = m.bad;
    if (sum.nan) out.nan = sum.nan;
    if (sum.posInf) out.posInf = sum.posInf;
    if (sum.negInf) out.negInf = sum.negInf;
    if (n > 0) out.lastPoint = { step: series.step(n - 1), value: toWire(series.value(n - 1)), time: series.time(n - 1) };
    return out;
  }

  /** The buckets, neighbours merged so that at most `most` remain. */
  private merged(most: number): { group: number; step: number[]; time: number[]; min: WireSeries["min"]; max: WireSeries["max"]; bad: number[] } {
    const out = { group: Math.max(1, Math.ceil(this.step.length / most)), step: [] as number[], time: [] as number[], min: [] as WireSeries["min"], max: [] as WireSeries["max"], bad: [] as number[] };
    const group = out.group;
    for (let b = 0; b < this.step.length; b += group) {
      let lo = NaN;
      let hi = NaN;
      let bad = 0;
      for (let k = b; k < Math.min(b + group, this.step.length); k++) {
        const a = this.min[k];
        const z = this.max[k];
        if (a === a) lo = lo === lo ? Math.min(lo, a) : a;
        if (z === z) hi = hi === hi ? Math.max(hi, z) : z;
        bad += this.bad[k];
      }
      out.step.push(this.step[b]);
      out.time.push(this.time[b]);
      out.min.push(toWire(lo));
      out.max.push(toWire(hi));
      out.bad.push(bad);
    }
    return out;
  }

  private halve(): void {
    const m = Math.ceil(this.step.length / 2);
    for (let k = 0; k < m; k++) {
      const a = 2 * k;
      const b = a + 1;
      this.step[k] = this.step[a];
      this.time[k] = this.time[a];
      if (b < this.step.length) {
        const lo = [this.min[a], this.min[b]].filter((x) => x === x);
        const hi = [this.max[a], this.max[b]].filter((x) => x === x);
        this.min[k] = lo.length ? Math.min(...lo) : NaN;
        this.max[k] = hi.length ? Math.max(...hi) : NaN;
        this.bad[k] = this.bad[a] + this.bad[b];
      } else {
        this.min[k] = this.min[a];
        this.max[k] = this.max[a];
        this.bad[k] = this.bad[a];
      }
    }
    this.step.length = this.time.length = this.min.length = this.max.length = this.bad.length = m;
    this.width *= 2;
  }
}
