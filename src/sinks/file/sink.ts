import * as fs from "node:fs";
import * as path from "node:path";
import { METRICS_HEADER, RUN_FILES, metricRows, recordJson, storeError, type Histogram } from "../../protocol";
import type { MetricBatch, RunSink, RunView } from "../../core/events";
import { appendSync, writeAtomic } from "./atomic";
import { metricsWriter } from "./writer";

/**
 * Writes a run to its folder: `run.json` (atomically, on start, heartbeats, artifacts and end),
 * `metrics.csv` (appended in batches), `histograms.jsonl`, `output.log`, and on start
 * `env.json` (host, git, dependencies) and `sources.json`.
 */
export class FileSink implements RunSink {
  readonly critical = true;

  constructor(dir: string) {
    this.dir = dir;
  }

  started(run: RunView): void {
    const { host, git, dependencies, sources } = run.env;
    writeAtomic(path.join(this.dir, RUN_FILES.env), recordJson({ host, git, dependencies }, 2) + "\n");
    if (sources) writeAtomic(path.join(this.dir, RUN_FILES.sources), recordJson(sources, 2) + "\n");
    this.writeRecord(run);
  }

  metrics(_run: RunView, batch: MetricBatch[]): void {
    this.throwFailed();
    const file = path.join(this.dir, RUN_FILES.metrics);
    if (!this.metricsStarted) {
      appendSync(file, METRICS_HEADER);
      this.metricsStarted = true;
    }
    const writer = metricsWriter();
    if (!writer) {
      let text = "";
      for (const b of batch) {
        const { steps, values, times } = b.series.copyRange(b.from, b.to);
        text += metricRows(b.series.name, steps, values, times);
      }
      appendSync(file, text);
      return;
    }
    this.writer = writer;
    writer.write(file, batch.map((b) => ({ name: b.series.name, ...b.series.copyRange(b.from, b.to) })), (e) => {
      this.failed ??= e;
    });
  }

  async drain(): Promise<void> {
    await this.writer?.sync();
    this.throwFailed();
  }

  drainSync(): void {
    this.writer?.syncBlocking();
  }

  histogram(_run: RunView, h: Histogram): void {
    appendSync(path.join(this.dir, RUN_FILES.histograms), recordJson(h) + "\n");
  }

  artifact(run: RunView): void {
    this.writeRecord(run);
  }

  output(_run: RunView, stream: "stdout" | "stderr", text: string): void {
    try {
      fs.appendFileSync(path.join(this.dir, RUN_FILES.output), stream === "stderr" ? text.replace(/^(?=.)/gm, "[stderr] ") : text);
    } catch {
      // losing a line of output must not break the program that printed it
    }
  }

  heartbeat(run: RunView): void {
    // A background write failed: the run's next call (it flushes, and so beats) hears it.
    this.throwFailed();
    this.writeRecord(run);
  }

  ended(run: RunView): void {
    this.writeRecord(run);
    if (this.writer) this.writer.forget(path.join(this.dir, RUN_FILES.metrics));
    if (run.env.git) {
      try {
        const envFile = path.join(this.dir, RUN_FILES.env);
        const env = JSON.parse(fs.readFileSync(envFile, "utf8"));
        if (env.git?.dirty === undefined && run.env.git.dirty !== undefined) {
          env.git.dirty = run.env.git.dirty;
          writeAtomic(envFile, JSON.stringify(env, null, 2) + "\n");
        }
      } catch (e) {
        throw storeError("write", path.join(this.dir, RUN_FILES.env), e);
      }
    }
  }

  private writeRecord(run: RunView): void {
    writeAtomic(path.join(this.dir, RUN_FILES.record), recordJson(run.record(), 2) + "\n");
  }

  private throwFailed(): void {
    const e = this.failed;
    if (e === undefined) return;
    this.failed = undefined;
    throw e;
  }

  private readonly dir: string;
  private failed: Error | undefined;
  private metricsStarted = false;
  private writer: ReturnType<typeof metricsWriter>;
}
