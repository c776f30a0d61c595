import * as fs from "node:fs";
import * as path from "node:path";
import { METRICS_HEADER, RUN_FILES, decodeColumn, metricRows } from "../../protocol";
import { appendSync, writeAtomic } from "./atomic";
import { metricsWriter } from "./writer";

/** Where a run's metric files are written: the writer thread, or inline where threads are unavailable. */
export interface MetricsOut {
  append(file: string, data: Uint8Array): void;
  replace(file: string, text: string): void;
  /** metrics.csv of the ended run, from its columns (files relative to the run's folder). */
  writeCsv(metrics: { name: string; file: string }[]): void;
  sync(): Promise<void>;
  syncBlocking(): void;
  forget(files: string[]): void;
}

/** The metrics output of the run in `dir`; errors of background writes go to `onError`. */
export function metricsOut(dir: string, onError: (e: Error) => void): MetricsOut {
  const writer = metricsWriter();
  if (writer) {
    writer.watch(dir, onError);
    return {
      append: (file, data) => writer.append(dir, file, data),
      replace: (file, text) => writer.replace(dir, file, text),
      writeCsv: (metrics) => writer.writeCsv(dir, metrics),
      sync: () => writer.sync(),
      syncBlocking: () => writer.syncBlocking(),
      forget: (files) => writer.forget(dir, files),
    };
  }
  return {
    append: (file, data) => appendSync(file, data),
    replace: (file, text) => writeAtomic(file, text),
    writeCsv: (metrics) => {
      let text = METRICS_HEADER;
      for (const m of metrics) {
        const c = decodeColumn(fs.readFileSync(path.join(dir, m.file)));
        text += metricRows(m.name, c.steps, c.values, c.times);
      }
      writeAtomic(path.join(dir, RUN_FILES.metrics), text);
    },
    sync: async () => undefined,
    syncBlocking: () => undefined,
    forget: () => undefined,
  };
}
