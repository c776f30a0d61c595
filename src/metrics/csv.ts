import type { Series } from "./series";

/** The header of every metrics.csv. */
export const METRICS_HEADER = "metric,step,value,time\n";

/** Quote a CSV field when it needs it (commas, quotes, newlines, leading/trailing space). */
export function csvField(s: string): string {
  return /[",\n\r]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function num(x: number): string {
  // String(NaN) is "NaN", String(Infinity) is "Infinity": spreadsheets and NumPy read both.
  return String(x);
}

/** Format points [from, to) of a series as CSV rows. */
export function formatRows(series: Series, from: number, to: number): string {
  const name = csvField(series.name) + ",";
  let out = "";
  for (let i = from; i < to; i++) out += name + num(series.step(i)) + "," + num(series.value(i)) + "," + num(series.time(i)) + "\n";
  return out;
}

/** Split one CSV line into fields (RFC 4180 quoting). Returns undefined for a malformed line. */
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

export interface MetricPoints {
  steps: number[];
  values: number[];
  times: number[];
}

/**
 * Parse metrics.csv text. A torn last line (a write cut short by a crash) and any malformed
 * line are skipped, so what was written whole is always readable.
 */
export function parseMetrics(text: string, only?: string): Map<string, MetricPoints> {
  const out = new Map<string, MetricPoints>();
  const complete = text.endsWith("\n") ? text : text.slice(0, text.lastIndexOf("\n") + 1);
  const lines = complete.split("\n");
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k];
    if (!line) continue;
    let name: string;
    let rest: string[];
    if (line[0] !== '"') {
      const parts = line.split(",");
      if (parts.length !== 4) continue;
      name = parts[0];
      rest = parts.slice(1);
    } else {
      const f = splitCsvLine(line);
      if (!f || f.length !== 4) continue;
      name = f[0];
      rest = f.slice(1);
    }
    if (only !== undefined && name !== only) continue;
    const step = Number(rest[0]);
    const value = Number(rest[1]);
    const time = Number(rest[2]);
    if (!Number.isFinite(step) || !Number.isFinite(time) || (Number.isNaN(value) && rest[1] !== "NaN")) continue;
    let p = out.get(name);
    if (!p) out.set(name, (p = { steps: [], values: [], times: [] }));
    p.steps.push(step);
    p.values.push(value);
    p.times.push(time);
  }
  return out;
}
