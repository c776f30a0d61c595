import * as fs from "node:fs";
import * as path from "node:path";
import { IncrementalBuckets, METRICS_DIR, METRICS_FORMAT, RUN_FILES, metricFiles, recordJson, storeError, type Histogram, type MetricsIndex, type RunRecord } from "../../protocol";
import type { MetricBatch, RunSink, RunView } from "../../core/events";
import { appendSync, ensureDir, writeAtomic } from "./atomic";
import { indexRun } from "./experiment-index";
import { metricsOut, type MetricsOut } from "./out";

/** How often a running run's metric summaries are rewritten. */
const SUMMARY_MS = 1000;

/** One metric's column file and the buckets of its summary. */
interface Column {
  id: number;
  name: string;
  file: string;
  buckets: IncrementalBuckets;
  dirty: boolean;
}

/**
 * Writes a run to its folder: `run.json` (atomically, on start, heartbeats, artifacts and end),
 * the metric columns (appended in batches) with their index and summaries, `histograms.jsonl`,
 * `output.log`, on start `env.json` (host, git, dependencies) and `sources.json`, and once the
 * run ended, `metrics.csv`.
 */
export class FileSink implements RunSink {
  readonly critical = true;

  constructor(dir: string) {
    this.dir = dir;
    this.out = metricsOut(dir, (e) => {
      this.failed ??= e;
    });
  }

  started(run: RunView): void {
    const { host, git, dependencies, sources } = run.env;
    writeAtomic(path.join(this.dir, RUN_FILES.env), recordJson({ host, git, dependencies }, 2) + "\n");
    if (sources) writeAtomic(path.join(this.dir, RUN_FILES.sources), recordJson(sources, 2) + "\n");
    this.writeRecord(run);
    // The index hears of the run as it starts, so readers find it without listing every folder.
    indexRun(this.dir, run.record(), false);
  }

  metrics(run: RunView, batch: MetricBatch[]): void {
    this.throwFailed();
    const now = Date.now();
    for (const b of batch) {
      const column = this.columnOf(b.series.name);
      this.out.appendPoints(column.file, b.series, b.from, b.to);
      // Folded as the points arrive, so that the end of a long run has little left to fold.
      column.buckets.update(b.series);
      b.series.summary();
      column.dirty = true;
    }
    // Summaries are small; rewriting them about once a second keeps the panel's charts current.
    if (now - this.summariesAt >= SUMMARY_MS) this.writeSummaries(run, now);
  }

  /** Resolves once the record and the metric columns are on disk (metrics.csv follows, see whenWritten()). */
  async drain(): Promise<void> {
    await this.out.sync();
    this.throwFailed();
  }

  drainSync(): void {
    this.out.syncBlocking();
    // Signal and exit paths: a run ended by them gets its metrics.csv before the process goes.
    if (this.finished) {
      this.out.csvBlocking();
      if (this.endRecord) this.index(this.endRecord);
    }
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
    this.finished = true;
    if (this.columns.size > 0) this.writeSummaries(run, Date.now(), true);
    this.writeRecord(run);
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
    // metrics.csv is written from the columns after the run ended, off the caller's path; a
    // run whose files could not be written gets none (its columns hold what was written).
    // Once the folder holds everything, the experiment's index gets the run's entry.
    const record = run.record();
    this.endRecord = record;
    const columns = [...this.columns.values()];
    this.out.finish(
      columns.map((c) => c.file),
      this.failed ? [] : columns.map((c) => ({ name: c.name, file: path.relative(this.dir, c.file) })),
      () => this.index(record),
    );
  }

  /** The run's entry in its experiment's index, once (after metrics.csv, or on the exit path). */
  private index(record: RunRecord): void {
    if (this.indexed) return;
    this.indexed = true;
    indexRun(this.dir, record);
  }

  private writeRecord(run: RunView): void {
    writeAtomic(path.join(this.dir, RUN_FILES.record), recordJson(run.record(), 2) + "\n");
  }

  /** The column of a metric, made (and the index rewritten) the first time the metric is seen. */
  private columnOf(name: string): Column {
    let c = this.columns.get(name);
    if (c) return c;
    if (this.columns.size === 0) ensureDir(path.join(this.dir, METRICS_DIR));
    const id = this.columns.size;
    c = { id, name, file: path.join(this.dir, metricFiles.column(id)), buckets: new IncrementalBuckets(), dirty: false };
    this.columns.set(name, c);
    // The index goes first: a column is only ever read through it.
    const index: MetricsIndex = { format: METRICS_FORMAT, metrics: [...this.columns.values()].map((x) => ({ id: x.id, name: x.name })) };
    this.out.replace(path.join(this.dir, metricFiles.index), JSON.stringify(index) + "\n");
    return c;
  }

  private writeSummaries(run: RunView, now: number, all = false): void {
    this.summariesAt = now;
    for (const c of this.columns.values()) {
      if (!c.dirty && !all) continue;
      c.dirty = false;
      const series = run.series(c.name);
      if (!series) continue;
      this.out.replace(path.join(this.dir, metricFiles.summary(c.id)), JSON.stringify(c.buckets.toSummary(c.name, series, series.summary())) + "\n");
    }
  }

  private throwFailed(): void {
    const e = this.failed;
    if (e === undefined) return;
    this.failed = undefined;
    throw e;
  }

  private readonly dir: string;
  private readonly out: MetricsOut;
  private readonly columns = new Map<string, Column>();
  private failed: Error | undefined;
  private summariesAt = 0;
  private finished = false;
  private indexed = false;
  private endRecord: RunRecord | undefined;
}
