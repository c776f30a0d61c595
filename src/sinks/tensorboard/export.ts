/**
 * Past runs as TensorBoard event files: what the live sink writes, from the store alone, one
 * subfolder per run under the folder given (`<experiment>/<number> <name>`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { RunRecord } from "../../protocol";
import { readHistograms, readMetricColumns, readMetricsIndex } from "../../history/metrics";
import { EventFileWriter, configMarkdown, runMarkdown, statusText, tensorboardRunFolder } from "./sink";

/** What one run's export wrote. */
export interface TensorBoardExport {
  dir: string;
  points: number;
  histograms: number;
}

/**
 * Write the run in `runDir` (its record `record`) under `outDir`. Exporting again replaces the
 * event files an earlier export wrote there, so TensorBoard never shows a point twice.
 * @example exportTensorBoard("experiments/mnist/3", record, "tb/")
 */
export function exportTensorBoard(runDir: string, record: RunRecord, outDir: string, onPoints?: (n: number) => void): TensorBoardExport {
  const dir = path.join(path.resolve(outDir), tensorboardRunFolder(record));
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (f.startsWith("events.out.tfevents.")) fs.rmSync(path.join(dir, f));
  const w = new EventFileWriter(dir, record.startTime);
  w.text("config", 0, configMarkdown(record), record.startTime);
  w.text("labnote", 0, runMarkdown(record), record.startTime);
  let points = 0;
  // One metric at a time: a long run is never held whole.
  const names = readMetricsIndex(runDir, record.id)?.metrics.map((m) => m.name) ?? Object.keys(record.metrics ?? {});
  for (const name of names) {
    const c = readMetricColumns(runDir, record.id, name).get(name);
    if (!c) continue;
    w.scalars(name, { step: (i) => c.steps[i], value: (i) => c.values[i], time: (i) => c.times[i] }, 0, c.steps.length);
    points += c.steps.length;
    onPoints?.(c.steps.length);
  }
  const histograms = readHistograms(runDir);
  for (const h of histograms) w.histogram(h);
  w.text("status", 0, statusText(record), record.endTime ?? record.heartbeat);
  w.close();
  return { dir, points, histograms: histograms.length };
}
