/**
 * Chart math shared by the dashboard and the panel: an exponential moving average defined over
 * steps (not over drawn points), log-scale ticks, and the unit of a "time since start" axis.
 * Pure functions: no DOM, no Node.
 *
 * The moving average gives each point a weight by the steps it stands for: point `i` covers the
 * steps up to the next point (`steps[i+1] - steps[i]`), and the average so far decays by
 * `alpha ^ (extent / unit)` as it takes that point in. A run of k points one step apart thus
 * moves the average exactly as one point of extent k holding their mean: the summary's min/max
 * buckets (drawn at their middle) and the full column draw the same curve, at any bucket count.
 */

/** Anything indexable by position: plain arrays and typed arrays. */
interface Numbers {
  readonly length: number;
  readonly [i: number]: number;
}

/** The number of steps of one smoothing unit for a chart spanning `span` steps: a thousandth of it, at least one step. */
export function smoothingUnit(span: number): number {
  return Number.isFinite(span) && span > 1000 ? span / 1000 : 1;
}

/**
 * The exponential moving average of `values` over `steps` (ascending), with smoothing `alpha`
 * in [0, 1) (0 gives the values back; 0.99 is very smooth) and `unit` steps per smoothing unit
 * (see {@link smoothingUnit}). Non-finite or missing values (NaN, ±Infinity, null) give null and
 * leave the average as it was. The average is debiased (no pull towards 0 at the start).
 * @example emaOverSteps([0, 1, 2, 10], [1, 2, 3, 4], 0.6, 1)
 */
export function emaOverSteps(steps: Numbers, values: ArrayLike<number | null>, alpha: number, unit = 1): (number | null)[] {
  const n = Math.min(steps.length, values.length);
  const out = new Array<number | null>(n);
  const a = Math.min(Math.max(Number.isFinite(alpha) ? alpha : 0, 0), 0.999999);
  const u = unit > 0 && Number.isFinite(unit) ? unit : 1;
  const logA = Math.log(a);
  let num = 0;
  let den = 0;
  let lastExtent = 1;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    // The steps this point stands for: up to the next point (the last one: as far as the one before it).
    let extent = i + 1 < n ? steps[i + 1] - steps[i] : lastExtent;
    if (!(extent > 0)) extent = i + 1 < n ? 1 : lastExtent;
    lastExtent = extent;
    if (v === null || v === undefined || !Number.isFinite(v)) {
      out[i] = null;
      continue;
    }
    if (a === 0) {
      out[i] = v;
      continue;
    }
    const keep = Math.exp((logA * extent) / u);
    num = keep * num + (1 - keep) * v;
    den = keep * den + (1 - keep);
    out[i] = num / den;
  }
  return out;
}

/** A log axis: its domain (enclosing the values, on 1-2-5 values) and the ticks to label. */
export interface LogAxis {
  domain: [number, number];
  ticks: number[];
}

const MANTISSAS = [1, 2, 5];

function niceDown(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  const m = x / p;
  return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * p;
}

function niceUp(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  const m = x / p;
  const k = m <= 1 + 1e-12 ? 1 : m <= 2 + 1e-12 ? 2 : m <= 5 + 1e-12 ? 5 : 10;
  return k * p;
}

function floorMantissa(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  return clean(Math.floor(x / p + 1e-9) * p);
}

function ceilMantissa(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  return clean(Math.ceil(x / p - 1e-9) * p);
}

/** Round away float noise from 10^k products (0.30000000000000004 → 0.3). */
function clean(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * Ticks for a log scale over the positive values [min, max]: powers of ten when the range spans
 * two decades or more (every second or third one when there are many), else 1-2-5 values, else
 * every integer mantissa; at most about `most` ticks. Undefined when there is no positive range.
 * @example logAxis(0.003, 2.4) // { domain: [0.002, 5], ticks: [0.01, 0.1, 1] }; logAxis(0.31, 0.42) // { domain: [0.3, 0.5], ticks: [0.3, 0.4, 0.5] }
 */
export function logAxis(min: number, max: number, most = 7): LogAxis | undefined {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return undefined;
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    min = min / 2;
    max = max * 2;
  }
  // Within a decade, round to whole mantissas (0.31..0.42 → 0.3..0.5), else to 1-2-5 values.
  const narrow = max / min < 10;
  const lo = narrow ? floorMantissa(min) : niceDown(min);
  const hi = narrow ? ceilMantissa(max) : niceUp(max);
  const d0 = Math.floor(Math.log10(lo) + 1e-9);
  const d1 = Math.ceil(Math.log10(hi) - 1e-9);
  const decades = Math.log10(hi) - Math.log10(lo);
  const inRange = (t: number) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9);
  let ticks: number[] = [];
  if (decades >= 2.5) {
    const every = Math.max(1, Math.ceil((d1 - d0 + 1) / most));
    for (let d = d0; d <= d1; d++) if ((d - d0) % every === 0) ticks.push(clean(Math.pow(10, d)));
  } else {
    for (let d = d0 - 1; d <= d1; d++) for (const m of MANTISSAS) ticks.push(clean(m * Math.pow(10, d)));
    ticks = ticks.filter(inRange);
    if (ticks.length < 3) {
      ticks = [];
      for (let d = d0 - 1; d <= d1; d++) for (let m = 1; m <= 9; m++) ticks.push(clean(m * Math.pow(10, d)));
      ticks = ticks.filter(inRange);
    }
    const mantissa = (t: number) => Math.round(t / Math.pow(10, Math.floor(Math.log10(t) + 1e-9)));
    if (ticks.length > most) ticks = ticks.filter((t) => mantissa(t) === 1 || mantissa(t) === 5);
    if (ticks.length > most) ticks = ticks.filter((t) => mantissa(t) === 1);
  }
  return { domain: [lo, hi], ticks: ticks.filter(inRange) };
}

/** How a log chart treats the values it cannot draw: those ≤ 0 are left out and counted. */
export function positiveOnly(x: number | null): number | null {
  return x !== null && x > 0 && Number.isFinite(x) ? x : null;
}

/** The unit of a "time since start" axis reaching `spanMs`: seconds, minutes or hours, with its axis title. */
export function elapsedUnit(spanMs: number): { unit: "s" | "min" | "h"; ms: number; title: string } {
  if (!(spanMs >= 180_000)) return { unit: "s", ms: 1000, title: "time since start (s)" };
  if (spanMs < 3 * 3_600_000) return { unit: "min", ms: 60_000, title: "time since start (min)" };
  return { unit: "h", ms: 3_600_000, title: "time since start (h)" };
}
