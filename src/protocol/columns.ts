/**
 * Metrics format 2: per metric an append-only column of float64 little-endian triples
 * (step, value, time), an index of names, and a summary for charts. Every float64 round-trips
 * exactly (NaN, ±Infinity, -0, subnormals, 2^53-scale steps); any metric name survives, since
 * names live in the index, not in file names. A torn last triple (a write cut short by a crash)
 * is left out by every decoder here, never misread. Runs written before format 2 (format 1)
 * have `metrics.csv` only (see `metrics.ts`).
 */
import { isPlainObject } from "./json";
import type { MetricColumns, MetricPoints, PointSource } from "./metrics";
import { isWireNumber, type WireNumber } from "./numbers";
import type { WireMetric } from "./wire";

/** The metrics format this version writes; a reader refuses anything newer. */
export const METRICS_FORMAT = 2;

/** Bytes of one point in a column file. */
export const POINT_BYTES = 24;

/** The most buckets a summary keeps (it stays well under 64 KB as JSON). */
export const SUMMARY_BUCKETS = 256;

/** Which metric lives in which column. */
export interface MetricsIndex {
  format: number;
  metrics: { id: number; name: string }[];
}

/**
 * A metric's summary file: what the card and the record keep of it (count, last, min, max, the
 * non-finite counts), and min/max buckets with the first step and time of each.
 */
export interface MetricSummaryFile extends Omit<WireMetric, "series"> {
  format: number;
  /** Points per bucket (the last bucket may hold fewer). */
  width: number;
  buckets: { step: number[]; time: number[]; min: WireNumber[]; max: WireNumber[]; bad?: number[] };
  /** The last point, exact. */
  lastPoint?: { step: number; value: WireNumber; time: number };
}

/** A decoded file of the metrics folder, or why it cannot be read. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The refusal every reader gives for a file of a format it does not know yet. */
function newer(file: string, format: number): { ok: false; reason: string } {
  return { ok: false, reason: `${file} was written by a newer labnote (metrics format ${format}; this one reads up to ${METRICS_FORMAT}): update labnote` };
}

function json(input: unknown, file: string): Parsed<unknown> {
  if (typeof input !== "string") return { ok: true, value: input };
  try {
    return { ok: true, value: JSON.parse(input) };
  } catch {
    return { ok: false, reason: `${file} is not valid JSON` };
  }
}

/**
 * Parse `metrics/index.json` (text or parsed JSON). Never throws; a newer format says to update.
 * @example const p = parseMetricsIndex(text); if (p.ok) for (const m of p.value.metrics) …
 */
export function parseMetricsIndex(input: unknown): Parsed<MetricsIndex> {
  const file = "metrics/index.json";
  const j = json(input, file);
  if (!j.ok) return j;
  const v = j.value;
  if (!isPlainObject(v) || typeof v.format !== "number") return { ok: false, reason: `${file} is not a metrics index` };
  if (v.format > METRICS_FORMAT) return newer(file, v.format);
  if (!Array.isArray(v.metrics)) return { ok: false, reason: `${file} is not a metrics index` };
  const metrics = v.metrics.filter((m): m is { id: number; name: string } => isPlainObject(m) && Number.isInteger(m.id) && (m.id as number) >= 0 && typeof m.name === "string");
  return { ok: true, value: { format: v.format, metrics } };
}

/**
 * Parse a metric's summary file (text or parsed JSON). Never throws; a newer format says to update.
 * @example const p = parseMetricSummary(text); if (p.ok) chart(summarySeries(p.value))
 */
export function parseMetricSummary(input: unknown): Parsed<MetricSummaryFile> {
  const file = "a metric summary";
  const j = json(input, file);
  if (!j.ok) return j;
  const v = j.value;
  if (!isPlainObject(v) || typeof v.format !== "number") return { ok: false, reason: `${file} is not one` };
  if (v.format > METRICS_FORMAT) return newer(file, v.format);
  const b = v.buckets;
  const ok =
    typeof v.name === "string" &&
    typeof v.count === "number" &&
    typeof v.lastStep === "number" &&
    typeof v.width === "number" &&
    [v.last, v.min, v.max].every(isWireNumber) &&
    isPlainObject(b) &&
    Array.isArray(b.step) &&
    Array.isArray(b.time) &&
    Array.isArray(b.min) &&
    Array.isArray(b.max);
  if (!ok) return { ok: false, reason: `${file} is malformed` };
  const buckets = b as Record<string, unknown[]>;
  const n = buckets.step.length;
  const same = [buckets.time, buckets.min, buckets.max, ...(buckets.bad ? [buckets.bad] : [])].every((a) => Array.isArray(a) && a.length === n);
  if (!same || !buckets.step.every((x) => typeof x === "number") || !buckets.min.every(isWireNumber) || !buckets.max.every(isWireNumber))
    return { ok: false, reason: `${file} has buckets of different lengths or non-numbers` };
  return { ok: true, value: v as unknown as MetricSummaryFile };
}

/** True on little-endian machines (almost all): the column bytes are then the memory layout. */
function littleEndian(): boolean {
  return new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
}

/**
 * Interleave points [from, to) into the bytes of a column file.
 * @example fs.appendFileSync(file, encodeColumn(steps, values, times, 0, n))
 */
export function encodeColumn(steps: ArrayLike<number>, values: ArrayLike<number>, times: ArrayLike<number>, from = 0, to = steps.length): Uint8Array {
  const n = Math.max(0, to - from);
  const out = new Float64Array(3 * n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[j] = steps[from + i];
    out[j + 1] = values[from + i];
    out[j + 2] = times[from + i];
  }
  if (!littleEndian()) {
    const b = new Uint8Array(out.buffer);
    for (let i = 0; i < b.length; i += 8) b.subarray(i, i + 8).reverse();
  }
  return new Uint8Array(out.buffer);
}

/**
 * Interleave points [from, to) of a series read by position into `out` (float64 triples) from
 * index `at`, as a column file's bytes (swapped where the machine is big-endian); returns the
 * number of float64s written. The writer fills a buffer it reuses, so nothing is allocated per
 * flush.
 * @example encodeColumnInto(series, 0, series.count, new Float64Array(3 * series.count), 0)
 */
export function encodeColumnInto(src: Omit<PointSource, "count">, from: number, to: number, out: Float64Array, at: number): number {
  let j = at;
  for (let i = from; i < to; ) {
    const slab = src.slab?.(i);
    if (slab === undefined) {
      out[j] = src.step(i);
      out[j + 1] = src.value(i);
      out[j + 2] = src.time(i);
      i++;
      j += 3;
      continue;
    }
    // A tight loop over the chunk that holds point i.
    const { steps, values, times, index } = slab;
    const end = index + Math.min(slab.length, to - i);
    for (let k = index; k < end; k++, j += 3) {
      out[j] = steps[k];
      out[j + 1] = values[k];
      out[j + 2] = times[k];
    }
    i += end - index;
  }
  if (!littleEndian()) {
    const b = new Uint8Array(out.buffer, out.byteOffset + at * 8, (j - at) * 8);
    for (let i = 0; i < b.length; i += 8) b.subarray(i, i + 8).reverse();
  }
  return j - at;
}

/**
 * A column's points as three typed arrays; a torn last point is left out (its bytes counted in
 * `torn`). Self-contained (no module constants, no nested functions), so the metrics writer
 * thread runs this same function.
 * @example const { steps, values } = decodeColumn(new Uint8Array(await response.arrayBuffer()))
 */
export function decodeColumn(bytes: Uint8Array): { steps: Float64Array; values: Float64Array; times: Float64Array; torn: number } {
  const n = Math.floor(bytes.byteLength / 24);
  const torn = bytes.byteLength - n * 24;
  const little = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f;
  // A view where the bytes allow it; a copy when they are misaligned or must be swapped.
  const aligned = bytes.byteOffset % 8 === 0 && little ? bytes : bytes.slice(0, n * 24);
  const all = new Float64Array(aligned.buffer, aligned.byteOffset, 3 * n);
  if (!little) {
    const b = new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
    for (let i = 0; i < b.length; i += 8) b.subarray(i, i + 8).reverse();
  }
  const steps = new Float64Array(n);
  const values = new Float64Array(n);
  const times = new Float64Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    steps[i] = all[j];
    values[i] = all[j + 1];
    times[i] = all[j + 2];
  }
  return { steps, values, times, torn };
}

/**
 * Decode whole points of `bytes` (a column, or a slice of one starting at a point) into plain
 * or float64 arrays from index `at` on; returns how many were decoded. A reader fills arrays it
 * sized from the file's length, a slice at a time, so no copy of the whole file is held.
 * @example const p = { steps: new Array(n), values: new Array(n), times: new Array(n) }; decodeColumnInto(bytes, p, 0)
 */
export function decodeColumnInto(bytes: Uint8Array, into: MetricPoints | MetricColumns, at: number): number {
  const n = Math.floor(bytes.byteLength / POINT_BYTES);
  const { steps, values, times } = into;
  if (bytes.byteOffset % 8 === 0 && littleEndian()) {
    const all = new Float64Array(bytes.buffer, bytes.byteOffset, 3 * n);
    for (let i = 0, j = 0, k = at; i < n; i++, j += 3, k++) {
      steps[k] = all[j];
      values[k] = all[j + 1];
      times[k] = all[j + 2];
    }
    return n;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * POINT_BYTES);
  for (let i = 0, j = 0, k = at; i < n; i++, j += POINT_BYTES, k++) {
    steps[k] = view.getFloat64(j, true);
    values[k] = view.getFloat64(j + 8, true);
    times[k] = view.getFloat64(j + 16, true);
  }
  return n;
}

/**
 * A whole column's points as plain arrays (the public {@link MetricPoints} shape).
 * @example columnPoints(bytes).values
 */
export function columnPoints(bytes: Uint8Array): MetricPoints {
  const n = Math.floor(bytes.byteLength / POINT_BYTES);
  const out: MetricPoints = { steps: new Array<number>(n), values: new Array<number>(n), times: new Array<number>(n) };
  decodeColumnInto(bytes, out, 0);
  return out;
}
