/**
 * A run's metric points from its folder, whatever format wrote them: format 2 columns (through
 * their index), or `metrics.csv` of runs written before (format 1). The formats and decoders are
 * the protocol's; this is only the reading of files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, METRICS_HEADER, POINT_BYTES, RUN_FILES, decodeColumnInto, metricFiles, metricRows, parseMetricsCsv, parseMetricsIndex, storeError, type Histogram, type MetricColumns, type MetricPoints, type MetricsIndex } from "../protocol";

/** Points read from a column per read call: big enough to be fast, small enough not to hold the file. */
const SLICE_POINTS = 1 << 16;

/** The run's metrics index, or undefined for a run written before format 2; throws when it cannot be read or is newer. */
export function readMetricsIndex(dir: string, runId: string): MetricsIndex | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, metricFiles.index), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw storeError("read", path.join(dir, metricFiles.index), e);
  }
  const parsed = parseMetricsIndex(text);
  if (!parsed.ok) throw new LabnoteError("STORE_READ", `Cannot read the metrics of run ${runId}`, parsed.reason);
  return parsed.value;
}

/** How a reader lays out the points it reads: plain arrays, or float64 columns. */
interface Layout<P extends MetricPoints | MetricColumns> {
  make(n: number): P;
  /** Points read from an older run's metrics.csv, in this layout. */
  fromCsv(p: MetricPoints): P;
}

const PLAIN: Layout<MetricPoints> = {
  make: (n) => ({ steps: new Array<number>(n), values: new Array<number>(n), times: new Array<number>(n) }),
  fromCsv: (p) => p,
};

const TYPED: Layout<MetricColumns> = {
  make: (n) => ({ steps: new Float64Array(n), values: new Float64Array(n), times: new Float64Array(n) }),
  fromCsv: (p) => ({ steps: Float64Array.from(p.steps), values: Float64Array.from(p.values), times: Float64Array.from(p.times) }),
};

/** Every metric's points (or only `only`'s) of the run in `dir`; a run with none gives an empty map. */
export function readMetricPoints(dir: string, runId: string, only?: string): Map<string, MetricPoints> {
  return readMetrics(dir, runId, PLAIN, only);
}

/** The same as {@link readMetricPoints}, as float64 columns: no conversion, half the memory while read. */
export function readMetricColumns(dir: string, runId: string, only?: string): Map<string, MetricColumns> {
  return readMetrics(dir, runId, TYPED, only);
}

function readMetrics<P extends MetricPoints | MetricColumns>(dir: string, runId: string, layout: Layout<P>, only?: string): Map<string, P> {
  const index = readMetricsIndex(dir, runId);
  const out = new Map<string, P>();
  if (index === undefined) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, RUN_FILES.metrics), "utf8");
    } catch {
      return out;
    }
    for (const [name, p] of parseMetricsCsv(text, only)) out.set(name, layout.fromCsv(p));
    return out;
  }
  for (const m of index.metrics) {
    if (only !== undefined && m.name !== only) continue;
    const points = readColumn(path.join(dir, metricFiles.column(m.id)), layout);
    // Named in the index, never written: the process died in between.
    if (points !== undefined) out.set(m.name, points);
  }
  return out;
}

/** Reads `want` bytes at `pos` into `buf` (fewer at the end of the file); returns how many. */
function readAt(fd: number, buf: Buffer, want: number, pos: number): number {
  let got = 0;
  while (got < want) {
    const r = fs.readSync(fd, buf, got, want - got, pos + got);
    if (r === 0) break;
    got += r;
  }
  return got;
}

/**
 * A column file's whole points, read a slice at a time into arrays sized from the file's
 * length: no copy of the file is held, and a torn last point is left out.
 */
function readColumn<P extends MetricPoints | MetricColumns>(file: string, layout: Layout<P>): P | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const n = Math.floor(fs.fstatSync(fd).size / POINT_BYTES);
    const out = layout.make(n);
    // allocUnsafeSlow: a buffer of its own, so its offset is 0 and the float64 view is aligned.
    const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(n, SLICE_POINTS)) * POINT_BYTES);
    let at = 0;
    while (at < n) {
      const want = Math.min(n - at, SLICE_POINTS) * POINT_BYTES;
      const got = readAt(fd, buf, want, at * POINT_BYTES);
      const k = decodeColumnInto(buf.subarray(0, got), out, at);
      at += k;
      if (got < want) break;
    }
    return at < n ? truncate(out, at) : out;
  } catch (e) {
    throw storeError("read", file, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first `n` points: the file shrank while it was read. */
function truncate<P extends MetricPoints | MetricColumns>(p: P, n: number): P {
  if (Array.isArray(p.steps)) {
    for (const a of [p.steps, p.values, p.times] as number[][]) a.length = n;
    return p;
  }
  const c = p as MetricColumns;
  return { steps: c.steps.subarray(0, n), values: c.values.subarray(0, n), times: c.times.subarray(0, n) } as P;
}

/** The run's histograms (of metric `name`, or all), in the order they were logged; torn lines are left out. */
export function readHistograms(dir: string, name?: string): Histogram[] {
  let text = "";
  try {
    text = fs.readFileSync(path.join(dir, RUN_FILES.histograms), "utf8");
  } catch {
    return [];
  }
  const out: Histogram[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const h = JSON.parse(line) as Histogram;
      if (name === undefined || h.name === name) out.push(h);
    } catch {
      /* a torn last line */
    }
  }
  return out;
}

/** A run's metrics to stream: each metric's name, its number of points, and a way to read it a slice at a time. */
export interface MetricStream {
  name: string;
  count: number;
  /** Hands the points to `visit` in order, at most 65,536 at a time (the same arrays reused). */
  slices(visit: (p: { steps: ArrayLike<number>; values: ArrayLike<number>; times: ArrayLike<number> }, n: number) => void): void;
}

/**
 * The run's metrics as streams, whatever format it has: format 2 columns read a slice at a time
 * (a 10M-point run is never held in memory), metrics.csv of older runs parsed once.
 * @example for (const m of metricStreams(dir, id)) m.slices((p, n) => write(p, n));
 */
export function metricStreams(dir: string, runId: string): MetricStream[] {
  const index = readMetricsIndex(dir, runId);
  if (index === undefined) {
    return [...readMetricPoints(dir, runId)].map(([name, p]) => ({ name, count: p.steps.length, slices: (visit) => visit(p, p.steps.length) }));
  }
  const out: MetricStream[] = [];
  for (const m of index.metrics) {
    const file = path.join(dir, metricFiles.column(m.id));
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      continue; // named in the index, never written: the process died in between
    }
    const count = Math.floor(size / POINT_BYTES);
    out.push({ name: m.name, count, slices: (visit) => readColumnSlices(file, count, visit) });
  }
  return out;
}

/** The first `count` points of a column, a slice at a time. */
function readColumnSlices(file: string, count: number, visit: (p: { steps: number[]; values: number[]; times: number[] }, n: number) => void): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    throw storeError("read", file, e);
  }
  try {
    const per = Math.min(count, SLICE_POINTS);
    const buf = Buffer.allocUnsafeSlow(Math.max(1, per) * POINT_BYTES);
    const p = { steps: new Array<number>(per), values: new Array<number>(per), times: new Array<number>(per) };
    let at = 0;
    while (at < count) {
      const want = Math.min(count - at, SLICE_POINTS) * POINT_BYTES;
      const got = readAt(fd, buf, want, at * POINT_BYTES);
      const k = decodeColumnInto(buf.subarray(0, got - (got % POINT_BYTES)), p, 0);
      if (k === 0) break;
      visit(p, k);
      at += k;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Rows handed to `write` at a time, so that a run of any length streams. */
const CSV_ROWS = 1 << 15;

/**
 * The run's metrics as metrics.csv text (`metric,step,value,time`), from whatever format it
 * has, handed to `write` a piece at a time (never the whole run in memory); returns how many
 * points were written. `progress` hears of each piece's points.
 * @example writeMetricsCsv(dir, "mnist/3", (text) => process.stdout.write(text))
 */
export function writeMetricsCsv(dir: string, runId: string, write: (text: string) => void, progress?: (points: number) => void): number {
  let count = 0;
  write(METRICS_HEADER);
  for (const m of metricStreams(dir, runId)) {
    m.slices((p, n) => {
      for (let i = 0; i < n; i += CSV_ROWS) {
        const to = Math.min(n, i + CSV_ROWS);
        write(metricRows(m.name, p.steps, p.values, p.times, i, to));
        progress?.(to - i);
      }
      count += n;
    });
  }
  return count;
}
