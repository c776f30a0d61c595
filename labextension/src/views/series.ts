/**
 * Chart rows from wire series, and the words a metric's summary uses: pure functions, shared
 * by the run card, the compare view and the unit tests.
 */
import { formatNumber, fromWire, nonFiniteText, type WireMetric, type WireSeries } from "../protocol";

/** One bucket of one run's series, as the chart's data rows. */
export interface ChartRow {
  run: string;
  step: number;
  lo: number | null;
  hi: number | null;
  mid: number | null;
  /** NaN and ±Infinity points in the bucket: the chart marks the step. */
  bad: number;
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Turn a wire series into chart rows: buckets without a finite point leave a gap, and carry their NaN/∞ count. */
export function seriesRows(run: string, s: WireSeries): ChartRow[] {
  const rows: ChartRow[] = new Array(s.step.length);
  for (let i = 0; i < s.step.length; i++) {
    const lo = finite(fromWire(s.min[i]));
    const hi = finite(fromWire(s.max[i]));
    rows[i] = { run, step: s.step[i], lo, hi, mid: lo === null || hi === null ? null : (lo + hi) / 2, bad: s.bad?.[i] ?? 0 };
  }
  return rows;
}

/** How many of a metric's points are NaN or ±Infinity. */
export function nonFiniteCount(m: Pick<WireMetric, "nan" | "posInf" | "negInf">): number {
  return (m.nan ?? 0) + (m.posInf ?? 0) + (m.negInf ?? 0);
}

/** A metric's summary line under its name: range, last step, points, and its NaN/∞ points when there are any. */
export function metricSummary(m: WireMetric): string {
  const bad = nonFiniteText(m);
  if (m.count <= 1) return [`step ${m.lastStep}`, bad].filter(Boolean).join(" · ");
  return [`min ${formatNumber(m.min)}`, `max ${formatNumber(m.max)}`, `step ${m.lastStep}`, `${m.count} pts`, bad].filter(Boolean).join(" · ");
}
