import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";
import { whenWritten } from "../../src";
import { readMetricPoints, writeMetricsCsv } from "../../src/history/metrics";
import type { MetricPoints } from "../../src/protocol";

/** A fresh temporary folder, removed when the test file ends (once the metrics.csv files being written there are done). */
export function tempDir(prefix = "labnote-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(async () => {
    await whenWritten();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A run's metrics as metrics.csv text, read through the store's own reader (whatever format is on disk, run open or not). */
export function metricsCsvOf(runDir: string): string {
  let text = "";
  writeMetricsCsv(runDir, runDir, (t) => (text += t));
  return text;
}

/** A run's points as the store's own reader gives them. */
export function pointsOf(runDir: string): Map<string, MetricPoints> {
  return readMetricPoints(runDir, runDir);
}

/** Capture what labnote says with console.warn (and process warnings) while fn runs. */
export async function warningsDuring(fn: () => Promise<unknown> | unknown): Promise<string[]> {
  const seen: string[] = [];
  const onWarn = (w: Error) => seen.push(w.message);
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
  process.on("warning", onWarn);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.removeListener("warning", onWarn);
    console.warn = original;
  }
  return seen;
}

export const LIB = path.resolve(__dirname, "../../src/index.ts");
