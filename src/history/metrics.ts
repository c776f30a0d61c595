/**
 * A run's metric points from its folder, whatever format wrote them: format 2 columns (through
 * their index), or `metrics.csv` of runs written before. The formats are the protocol's; this is
 * only the reading of files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, RUN_FILES, decodeColumn, metricFiles, parseMetricsCsv, parseMetricsIndex, type MetricPoints } from "../protocol";

/** Every metric's points (or only `only`'s) of the run in `dir`; a run with none gives an empty map. */
export function readMetricPoints(dir: string, runId: string, only?: string): Map<string, MetricPoints> {
  let indexText: string | undefined;
  try {
    indexText = fs.readFileSync(path.join(dir, metricFiles.index), "utf8");
  } catch {
    indexText = undefined;
  }
  if (indexText === undefined) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, RUN_FILES.metrics), "utf8");
    } catch {
      return new Map();
    }
    return parseMetricsCsv(text, only);
  }
  const parsed = parseMetricsIndex(indexText);
  if (!parsed.ok) throw new LabnoteError("STORE_READ", `Cannot read the metrics of run ${runId}`, parsed.reason);
  const out = new Map<string, MetricPoints>();
  for (const m of parsed.index.metrics) {
    if (only !== undefined && m.name !== only) continue;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(dir, metricFiles.column(m.id)));
    } catch {
      continue; // named in the index, never written: the process died in between
    }
    const c = decodeColumn(bytes);
    out.set(m.name, { steps: Array.from(c.steps), values: Array.from(c.values), times: Array.from(c.times) });
  }
  return out;
}
