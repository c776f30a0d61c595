/**
 * A run's `metrics.csv`: `metric,step,value,time`, one row a point: the whole of a run's metrics
 * in format 1 (appended in batches), and in format 2 the file written from the columns once the
 * run ended (see `columns.ts`). One row format and one parser, used by the kernel side, the
 * command line and the panel. NaN and ±Infinity are written as `NaN`, `Infinity`, `-Infinity` (spreadsheets,
 * pandas and NumPy read them). A torn last row (a write cut short by a crash) is skipped, never
 * misread.
 */

/** The header of every metrics.csv. */
export const METRICS_HEADER = "metric,step,value,time\n";

/** Anything indexable by position: plain arrays and typed arrays. */
export interface NumberList {
  readonly length: number;
  readonly [i: number]: number;
}

/** Points read by position: a live series or arrays parsed from a file. */
export interface PointSource {
  readonly count: number;
  step(i: number): number;
  value(i: number): number;
  time(i: number): number;
  /**
   * For a series held in chunks: the arrays that hold point `i`, where `i` is in them, and how
   * many points from there on they hold. Readers that walk many points use it to run a tight
   * loop over each chunk instead of a call per point.
   */
  slab?(i: number): PointSlab;
}

/** Part of a chunked series: points `[index, index + length)` of these arrays. */
export interface PointSlab {
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
  index: number;
  length: number;
}

/** Quote a CSV field when it needs it (commas, quotes, newlines, leading or trailing space), RFC 4180 style. */
export function csvField(s: string): string {
  return /[",\n\r]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Rows for points [from, to) of one metric. A run of points logged in the same millisecond
 * shares one formatted time.
 * @example metricRows("loss", [0, 1], [0.5, NaN], [t, t]) // "loss,0,0.5,<t>\nloss,1,NaN,<t>\n"
 */
export function metricRows(name: string, steps: NumberList, values: NumberList, times: NumberList, from = 0, to = steps.length): string {
  const head = csvField(name) + ",";
  let lastTime = NaN;
  let timeText = "";
  let out = "";
  for (let i = from; i < to; i++) {
    const t = times[i];
    if (t !== lastTime) {
      lastTime = t;
      timeText = "," + t + "\n";
    }
    out += head + steps[i] + "," + values[i] + timeText;
  }
  return out;
}

/** One metric's points as read back. */
export interface MetricPoints {
  steps: number[];
  values: number[];
  times: number[];
}

/**
 * One metric's points as three float64 columns: what `run.columns(name)` returns. Read with no
 * conversion from the store, half the memory of {@link MetricPoints} while it is built, and what
 * arquero, Arrow and plotting code take as they are.
 * @example const { steps, values } = again.columns("loss"); aq.table({ step: steps, loss: values })
 */
export interface MetricColumns {
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
}

/** Split one CSV line into fields (RFC 4180 quoting); undefined for a malformed line. */
export function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let s = "";
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            s += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += line[i++];
      }
      out.push(s);
      if (i < line.length && line[i] !== ",") return undefined;
      i++;
    } else {
      const j = line.indexOf(",", i);
      if (j < 0) {
        out.push(line.slice(i));
        break;
      }
      out.push(line.slice(i, j));
      i = j + 1;
    }
  }
  return out;
}

function value(text: string): number {
  const v = Number(text);
  return v === v || text === "NaN" ? v : NaN;
}

/**
 * Parse metrics.csv text: each metric's steps, values and times, in file order. The header, a
 * torn last line and any malformed line are skipped, so whatever was written whole is read.
 * @example parseMetricsCsv(text).get("loss")?.values
 */
export function parseMetricsCsv(text: string, only?: string): Map<string, MetricPoints> {
  const out = new Map<string, MetricPoints>();
  const end = text.endsWith("\n") ? text.length : text.lastIndexOf("\n") + 1;
  let pos = text.startsWith("metric,") ? text.indexOf("\n") + 1 : 0;
  if (pos < 0) return out;
  while (pos < end) {
    const nl = text.indexOf("\n", pos);
    let line = text.slice(pos, nl);
    pos = nl + 1;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (!line) continue;
    let f: string[] | undefined;
    if (line[0] !== '"') {
      f = line.split(",");
    } else f = splitCsvLine(line);
    if (!f || f.length !== 4) continue;
    const name = f[0];
    if (only !== undefined && name !== only) continue;
    const step = Number(f[1]);
    const v = value(f[2]);
    const time = Number(f[3]);
    if (!Number.isFinite(step) || !Number.isFinite(time) || (v !== v && f[2] !== "NaN")) continue;
    let p = out.get(name);
    if (!p) out.set(name, (p = { steps: [], values: [], times: [] }));
    p.steps.push(step);
    p.values.push(v);
    p.times.push(time);
  }
  return out;
}
