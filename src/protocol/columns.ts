/**
 * Metrics format 2: per metric an append-only column of float64 little-endian triples
 * (step, value, time), an index of names, and a summary for charts. Every float64 round-trips
 * exactly (NaN, ±Infinity, -0, subnormals, 2^53-scale steps); any metric name survives, since
 * names live in the index, not in file names. A torn last triple (a write cut short by a crash)
 * is left out by {@link decodeColumn}, never misread.
 */
import { isPlainObject } from "./json";
import { fromWire, isWireNumber, type WireNumber } from "./numbers";

/** The metrics format this version writes; a reader refuses anything newer. */
export const METRICS_FORMAT = 2;

/** Bytes of one point in a column file. */
export const POINT_BYTES = 24;

/** The most buckets a summary keeps (it stays under 64 KB as JSON). */
export const SUMMARY_BUCKETS = 256;

/** Which metric lives in which column. */
export interface MetricsIndex {
  format: number;
  metrics: { id: number; name: string }[];
}

/** A metric's summary file: what the record keeps of it, and min/max buckets with the first step and time of each. */
export interface MetricSummaryFile {
  format: number;
  name: string;
  count: number;
  lastStep: number;
  last: WireNumber;
  min: WireNumber;
  max: WireNumber;
  nan?: number;
  posInf?: number;
  negInf?: number;
  /** Points per bucket (the last bucket may hold fewer). */
  width: number;
  buckets: { step: number[]; time: number[]; min: WireNumber[]; max: WireNumber[]; bad?: number[] };
  /** The last point, exact. */
  lastPoint?: { step: number; value: WireNumber; time: number };
}

/** A decoded index, or why it cannot be read. */
export type ParsedIndex = { ok: true; index: MetricsIndex } | { ok: false; reason: string };

/** Parse `metrics/index.json`. Never throws; a newer format says to update. */
export function parseMetricsIndex(input: unknown): ParsedIndex {
  let v = input;
  if (typeof input === "string") {
    try {
      v = JSON.parse(input);
    } catch {
      return { ok: false, reason: "metrics/index.json is not valid JSON" };
    }
  }
  if (!isPlainObject(v) || typeof v.format !== "number" || !Array.isArray(v.metrics)) return { ok: false, reason: "metrics/index.json is not a metrics index" };
  if (v.format > METRICS_FORMAT) return { ok: false, reason: `metrics written by a newer labnote (format ${v.format}, this one reads up to ${METRICS_FORMAT}): update labnote` };
  const metrics = v.metrics.filter((m): m is { id: number; name: string } => isPlainObject(m) && Number.isInteger(m.id) && (m.id as number) >= 0 && typeof m.name === "string");
  return { ok: true, index: { format: v.format, metrics } };
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
  if (!littleEndian()) swapBytes(out);
  return new Uint8Array(out.buffer);
}

/**
 * A column's points as three arrays; a torn last point is left out (counted in `torn`).
 * Self-contained (no module constants), so the metrics writer thread runs this same function.
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

function swapBytes(a: Float64Array): void {
  const b = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < b.length; i += 8) b.subarray(i, i + 8).reverse();
}

/** Parse a summary file; undefined when it is not one (or is newer than this reader). */
export function parseMetricSummary(input: unknown): MetricSummaryFile | undefined {
  let v = input;
  if (typeof input === "string") {
    try {
      v = JSON.parse(input);
    } catch {
      return undefined;
    }
  }
  if (!isPlainObject(v) || typeof v.format !== "number" || v.format > METRICS_FORMAT || typeof v.name !== "string" || typeof v.count !== "number") return undefined;
  const b = v.buckets;
  if (!isPlainObject(b) || !Array.isArray(b.step) || !Array.isArray(b.min) || !Array.isArray(b.max) || !Array.isArray(b.time)) return undefined;
  const n = b.step.length;
  if (b.min.length !== n || b.max.length !== n || b.time.length !== n || !b.min.every(isWireNumber) || !b.max.every(isWireNumber)) return undefined;
  return v as unknown as MetricSummaryFile;
}

/** The summary's numbers decoded (NaN and ±Infinity from their strings). */
export function summaryNumbers(s: MetricSummaryFile): { last: number; min: number; max: number } {
  return { last: fromWire(s.last), min: fromWire(s.min), max: fromWire(s.max) };
}
