import * as path from "node:path";
import { RUN_FILES, encodeColumn } from "../../protocol";
import type { SeriesView } from "../../core/events";
import { writeMetricsCsv } from "../../history/metrics";
import { appendSync, writeAtomic, writeAtomicBy } from "./atomic";
import { warn } from "../../core/util/warn";
import { metricsWriter } from "./writer";

/** Where a run's metric files are written: the writer thread, or inline where threads are unavailable. */
export interface MetricsOut {
  /** Append points [from, to) of `src` to a column file. */
  appendPoints(file: string, src: SeriesView, from: number, to: number): void;
  replace(file: string, text: string): void;
  /**
   * The run ended: close `files`, then write its metrics.csv from the columns (`metrics`
   * relative to the run's folder); `done` is called when the folder holds everything.
   */
  finish(files: string[], metrics: { name: string; file: string }[], done?: () => void): void;
  sync(): Promise<void>;
  syncBlocking(): void;
  /** Block until this process's metrics.csv files are written (exit path). */
  csvBlocking(): void;
}

/** The metrics output of the run in `dir`; errors of background writes go to `onError`. */
export function metricsOut(dir: string, onError: (e: Error) => void): MetricsOut {
  const writer = metricsWriter();
  if (writer) {
    writer.watch(dir, onError);
    return {
      appendPoints: (file, src, from, to) => writer.appendPoints(dir, file, src, from, to),
      replace: (file, text) => writer.replace(dir, file, text),
      finish: (files, metrics, done) => writer.finish(dir, files, { file: RUN_FILES.metrics, metrics }, done),
      sync: () => writer.sync(),
      syncBlocking: () => writer.syncBlocking(),
      csvBlocking: () => writer.csvBlocking(),
    };
  }
  return {
    appendPoints: (file, src, from, to) => {
      const { steps, values, times } = src.copyRange(from, to);
      appendSync(file, encodeColumn(steps, values, times));
    },
    replace: (file, text) => writeAtomic(file, text),
    finish: (_files, metrics, done) => {
      if (metrics.length > 0) {
        try {
          writeAtomicBy(path.join(dir, RUN_FILES.metrics), (write) => writeMetricsCsv(dir, dir, write));
        } catch (e) {
          // As from the writer thread: the columns are whole, `labnote export` can redo the file.
          warn(`${(e as Error).message}; the run's metrics are intact, \`labnote export\` writes the file later`);
        }
      }
      done?.();
    },
    sync: async () => undefined,
    syncBlocking: () => undefined,
    csvBlocking: () => undefined,
  };
}
