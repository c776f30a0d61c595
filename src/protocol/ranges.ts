/**
 * Raw points of one x-range of a metric, for a chart zoomed in so far that the summary's buckets
 * are coarser than the screen. Pure: the reads are done by a {@link ColumnReader} the caller
 * hands in (the browser's is HTTP Range requests against Jupyter's `/files/`), so the same
 * search runs over a file, a fetch or an array.
 *
 * How the byte offsets are found. A column (`metrics/<id>.f64`) is a run of 24-byte points
 * (step, value, time) in the order they were logged, so point `i` is bytes `[24 i, 24 i + 24)`,
 * and for a normal run both steps and times are non-decreasing. The points of a range
 * `[lo, hi]` of steps (or times) are then `[L, R)`, where L is the first point whose key is ≥ lo
 * and R the first whose key is > hi; each is found as a boundary where a monotone test turns
 * true.
 *  1. The summary (`metrics/<id>.json`) gives anchors for free: bucket k starts at point
 *     `k × width` with the step and time it records, and the last point is `count - 1`. The
 *     index of a key is estimated by interpolating between the anchors around it (exact for
 *     the usual one step per point, close for any steady stride).
 *  2. One read of the estimated `[L - 1, R]` plus {@link PROBE} points of slack on each side
 *     usually holds both boundaries: the points on either side of each are in it, so both are
 *     known exactly, and so are the points between (a 1,000-step window is about 30 KB).
 *  3. Otherwise each boundary is searched alone with probes of {@link PROBE} points (3 KB):
 *     a probe holding the boundary ends the search; one wholly before or after it halves the
 *     interval left (the first probe at the estimate, later ones at the middle), so even a
 *     summary that is wrong or missing costs at most ~log2(points / PROBE) small reads. Only
 *     what the reads show is trusted: the summary only places the probes.
 * The file of a running run grows while it is read: the reader says the file's length as it
 * was at each read (the `Content-Range` total), a read past the end comes back short or empty,
 * and a torn last point (a write in flight) is left out, never misread.
 */
import type { MetricSummaryFile } from "./columns";
import { POINT_BYTES } from "./columns";
import type { NumberList } from "./metrics";

/** Which field of a point the range is over: its step, or its time (ms since the epoch). */
export type RangeKey = "step" | "time";

/** Points read per probe while searching for a boundary (3 KB). */
export const PROBE = 128;

/** What a read of points `[from, to)` gave: whole and torn bytes from point `from` on, and the file's length in bytes when known. */
export interface ColumnRead {
  bytes: Uint8Array;
  /** The column's length in bytes at the time of the read (a running run's grows). */
  total?: number;
}

/** Reads points `[from, to)` of one column: fewer at the end of the file, none past it. */
export type ColumnReader = (from: number, to: number) => Promise<ColumnRead>;

/** Points `[from, from + steps.length)` of a column, as float64 arrays. */
export interface PointSlice {
  from: number;
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
}

/** What {@link readRange} found. */
export type RangeResult =
  | ({
      kind: "points";
      /** The column's length in points as last seen. */
      total: number;
    } & PointSlice &
      ReadCost)
  /** More than `most` points lie in the range: none were read beyond the probes. */
  | ({ kind: "too-many"; count: number } & ReadCost)
  /** The keys go down somewhere in the range (steps logged out of order): no boundary is defined. */
  | ({ kind: "unordered" } & ReadCost);

/** Requests made and bytes received. */
export interface ReadCost {
  reads: number;
  bytes: number;
}

/** The estimate of the points a range holds, from the summary alone (no read). */
export interface RangeEstimate {
  /** Points of the range (about). */
  points: number;
  /** Summary buckets the range spans (about): `points / width`. */
  buckets: number;
  /** Points per bucket of the summary. */
  width: number;
}

/**
 * Whether a chart should draw a range from raw points: it is zoomed in (`zoomed`), its buckets
 * there are coarser than 2 pixels each (fewer than `px / 2` of them), a bucket holds more than
 * one point (else the summary is the points), and the range holds at most `most` points.
 * @example rawWanted(estimateRange(summary, 5e5, 5.01e5, "step"), 700, 16 * 700, true) // true
 */
export function rawWanted(e: RangeEstimate | undefined, px: number, most: number, zoomed: boolean): boolean {
  if (!zoomed || !e) return false;
  return e.width > 1 && e.buckets < px / 2 && e.points <= most;
}

/** The points of a column by position: index → key, as anchors from a summary. */
interface Anchor {
  index: number;
  key: number;
}

/** The summary's anchors for `key`: each bucket's first point, then the last point; only those that keep the keys in order. */
function anchors(s: MetricSummaryFile, key: RangeKey): Anchor[] {
  const keys = key === "step" ? s.buckets.step : s.buckets.time;
  const out: Anchor[] = [];
  const width = Math.max(1, Math.floor(s.width));
  for (let k = 0; k < keys.length; k++) {
    const index = k * width;
    if (index >= s.count || !Number.isFinite(keys[k])) break;
    if (out.length && keys[k] < out[out.length - 1].key) return out;
    out.push({ index, key: keys[k] });
  }
  const last = s.lastPoint;
  if (last && s.count > 0) {
    const k = key === "step" ? last.step : last.time;
    if (Number.isFinite(k) && (!out.length || (k >= out[out.length - 1].key && s.count - 1 > out[out.length - 1].index))) out.push({ index: s.count - 1, key: k });
  }
  return out;
}

/** The estimated index of the first point whose key is ≥ x (or > x with `after`), by interpolation between anchors. */
function estimateIndex(a: readonly Anchor[], x: number, after: boolean): number {
  if (!a.length) return 0;
  const passes = (k: number) => (after ? k > x : k >= x);
  if (passes(a[0].key)) return a[0].index;
  let j = 1;
  while (j < a.length && !passes(a[j].key)) j++;
  if (j === a.length) {
    // Beyond the last anchor (a file still growing): extrapolate at the run's mean stride.
    const first = a[0];
    const last = a[a.length - 1];
    const stride = last.index > first.index && last.key > first.key ? (last.key - first.key) / (last.index - first.index) : 1;
    return last.index + 1 + Math.max(0, Math.floor((x - last.key) / stride));
  }
  const p = a[j - 1];
  const q = a[j];
  if (q.key === p.key) return q.index;
  const f = (x - p.key) / (q.key - p.key);
  return Math.min(q.index, Math.max(p.index + 1, p.index + Math.ceil(f * (q.index - p.index))));
}

/**
 * How many points and buckets of `summary` a range `[lo, hi]` of `key` spans, from its anchors
 * alone; undefined for a summary without buckets.
 * @example estimateRange(summary, 500_000, 501_000, "step") // { points: 1001, buckets: 0.24, width: 4096 }
 */
export function estimateRange(summary: MetricSummaryFile, lo: number, hi: number, key: RangeKey): RangeEstimate | undefined {
  const a = anchors(summary, key);
  if (a.length < 2) return undefined;
  const width = Math.max(1, Math.floor(summary.width));
  const points = Math.max(0, estimateIndex(a, hi, true) - estimateIndex(a, lo, false));
  return { points, buckets: points / width, width };
}

/** The key of point `i` of decoded float64 triples. */
function keyAt(all: Float64Array, i: number, key: RangeKey): number {
  return all[3 * i + (key === "step" ? 0 : 2)];
}

/**
 * The first index in `[from, to)` whose key passes a test that is false, then true, along
 * `keys` (binary search); `to` when none does.
 * @example firstIndex([0, 1, 2, 3], (k) => k >= 2) // 2
 */
export function firstIndex(keys: NumberList, passes: (k: number) => boolean, from = 0, to = keys.length): number {
  let a = from;
  let b = to;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (passes(keys[m])) b = m;
    else a = m + 1;
  }
  return a;
}

/** Whole points of `bytes` as float64 triples (a view where aligned and little-endian, else a copy). */
function triples(bytes: Uint8Array): Float64Array {
  const n = Math.floor(bytes.byteLength / POINT_BYTES);
  const little = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
  if (little && bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, 3 * n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * POINT_BYTES);
  const out = new Float64Array(3 * n);
  for (let i = 0; i < 3 * n; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

/** A boundary as the reads show it: known exactly, or known to lie in `[a, b]`. */
interface Bounds {
  a: number;
  b: number;
  found?: number;
}

/**
 * The raw points of a column whose `key` lies in `[lo, hi]`, and one point on either side (so a
 * line drawn from them reaches the edges of the range), read in small ranges as the module
 * comment says; `summary` (the metric's summary file) places the reads, and may be absent or
 * stale. At most `most` points are read: a range holding more gives `too-many` and its count.
 * @example const r = await readRange(read, summary, 500_000, 501_000, "step", 10_000); if (r.kind === "points") draw(r.steps, r.values)
 */
export async function readRange(read: ColumnReader, summary: MetricSummaryFile | undefined, lo: number, hi: number, key: RangeKey, most: number): Promise<RangeResult> {
  const cost: ReadCost = { reads: 0, bytes: 0 };
  const a = summary ? anchors(summary, key) : [];
  // The column's length in points: the summary's count until a read says the file's length.
  let total = summary ? Math.max(0, summary.count) : Infinity;
  let totalKnown = false;
  const fetch = async (from: number, to: number): Promise<{ from: number; all: Float64Array }> => {
    from = Math.max(0, from);
    const r = await read(from, to);
    cost.reads++;
    cost.bytes += r.bytes.byteLength;
    const all = triples(r.bytes);
    const n = all.length / 3;
    if (r.total !== undefined && Number.isFinite(r.total)) {
      total = Math.floor(r.total / POINT_BYTES);
      totalKnown = true;
    } else if (n < to - from) {
      total = from + n;
      totalKnown = true;
    } else if (!totalKnown) total = Math.max(total === Infinity ? 0 : total, from + n);
    return { from, all };
  };
  const startTest = (k: number) => k >= lo;
  const endTest = (k: number) => k > hi;
  // What a chunk says about a boundary: exactly where it is, or which side of it the chunk lies.
  const look = (c: { from: number; all: Float64Array }, passes: (k: number) => boolean, bounds: Bounds): void => {
    const n = c.all.length / 3;
    if (n === 0) {
      // Past the end of the file: the boundary is at or before the end.
      bounds.b = Math.min(bounds.b, c.from);
      return;
    }
    let i = 0;
    while (i < n && !passes(keyAt(c.all, i, key))) i++;
    const at = c.from + i;
    if (i === n) {
      bounds.a = Math.max(bounds.a, c.from + n);
      if (totalKnown && c.from + n >= total) bounds.found = total;
      return;
    }
    if (i > 0 || c.from === 0) bounds.found = at;
    else bounds.b = Math.min(bounds.b, c.from);
  };
  const estL = a.length ? estimateIndex(a, lo, false) : 0;
  const estR = a.length ? Math.max(estL, estimateIndex(a, hi, true)) : 0;
  const start: Bounds = { a: 0, b: Infinity };
  const end: Bounds = { a: 0, b: Infinity };
  // One read of the estimated range with slack, when the summary says it is small enough.
  let first: { from: number; all: Float64Array } | undefined;
  if (a.length && estR - estL <= most) {
    first = await fetch(estL - 1 - PROBE, estR + 1 + PROBE);
    look(first, startTest, start);
    look(first, endTest, end);
  }
  // Otherwise (or where the read missed) each boundary alone, by probes: the first at the
  // estimate, then outwards from the side the last probe moved, doubling the distance, and once
  // that passes the middle of what is left, halving it.
  const search = async (passes: (k: number) => boolean, bounds: Bounds, estimate: number): Promise<number> => {
    let guess: number | undefined = first ? undefined : estimate;
    let moved: "a" | "b" | undefined = first ? (first.from >= bounds.b ? "b" : "a") : undefined;
    let stride = PROBE;
    for (let probes = 0; bounds.found === undefined; probes++) {
      if (totalKnown) bounds.b = Math.min(bounds.b, total);
      if (bounds.a >= bounds.b) return bounds.b;
      let at: number;
      if (guess !== undefined) at = guess;
      else if (bounds.b === Infinity) at = bounds.a + stride;
      else {
        const mid = Math.floor((bounds.a + bounds.b) / 2);
        at = moved === "b" ? Math.max(mid, bounds.b - stride) : moved === "a" ? Math.min(mid, bounds.a + stride) : mid;
      }
      guess = undefined;
      stride *= 2;
      const from = Math.min(Math.max(bounds.a - 1, at - PROBE / 2), bounds.b === Infinity ? Infinity : bounds.b - 1);
      const before = { a: bounds.a, b: bounds.b };
      look(await fetch(from, from + PROBE), passes, bounds);
      moved = bounds.b < before.b ? "b" : bounds.a > before.a ? "a" : moved;
      if (probes > 200) throw new Error("readRange: the search did not end");
    }
    return bounds.found;
  };
  const L = start.found ?? (await search(startTest, start, estL));
  end.a = Math.max(end.a, L);
  const R = end.found ?? (await search(endTest, end, estR));
  if (R - L > most) return { kind: "too-many", count: R - L, ...cost };
  // The points [L - 1, R] (the neighbours outside the range included, where they exist).
  const from = Math.max(0, L - 1);
  const to = Math.min(R + 1, totalKnown ? total : R + 1);
  let chunk = first && first.from <= from && first.from + first.all.length / 3 >= to ? first : undefined;
  if (!chunk) chunk = to > from ? await fetch(from, to) : { from, all: new Float64Array(0) };
  const off = from - chunk.from;
  const n = Math.max(0, Math.min(to, chunk.from + chunk.all.length / 3) - from);
  const out: PointSlice = { from, steps: new Float64Array(n), values: new Float64Array(n), times: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const j = 3 * (off + i);
    out.steps[i] = chunk.all[j];
    out.values[i] = chunk.all[j + 1];
    out.times[i] = chunk.all[j + 2];
    if (i > 0 && keyAt(chunk.all, off + i, key) < keyAt(chunk.all, off + i - 1, key)) return { kind: "unordered", ...cost };
  }
  return { kind: "points", total: totalKnown ? total : Math.max(total, to), ...out, ...cost };
}

/**
 * The same range of points already in memory (a run written before the columns, read whole from
 * its metrics.csv): the points whose key lies in `[lo, hi]` and one on either side.
 * @example sliceRange({ steps, values, times }, 500, 600, "step")
 */
export function sliceRange(p: { steps: NumberList; values: NumberList; times: NumberList }, lo: number, hi: number, key: RangeKey): PointSlice | undefined {
  const keys = key === "step" ? p.steps : p.times;
  for (let i = 1; i < keys.length; i++) if (keys[i] < keys[i - 1]) return undefined;
  const L = firstIndex(keys, (k) => k >= lo);
  const R = firstIndex(keys, (k) => k > hi, L);
  const from = Math.max(0, L - 1);
  const to = Math.min(keys.length, R + 1);
  const n = Math.max(0, to - from);
  const out: PointSlice = { from, steps: new Float64Array(n), values: new Float64Array(n), times: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    out.steps[i] = p.steps[from + i];
    out.values[i] = p.values[from + i];
    out.times[i] = p.times[from + i];
  }
  return out;
}
