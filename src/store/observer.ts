import * as fs from "node:fs";
import * as path from "node:path";
import { storeError } from "../errors";
import { formatRows, METRICS_HEADER } from "../metrics/csv";
import type { Histogram } from "../metrics/histogram";
import type { MetricBatch, RunObserver } from "../run/observer";
import type { Run } from "../run/run";
import { recordJson } from "../util/json";
import { appendSync, writeAtomic } from "./atomic";
import { metricsWriter } from "./writer";

/**
 * Writes a run to its folder: `run.json` (atomically, on start, heartbeats, artifacts and end),
 * `metrics.csv` (appended in batches), `histograms.jsonl`, `output.log`, and on start
 * `env.json` (host, git, dependencies) and `sources.json`.
 */
export class FileObserver implements RunObserver {
  readonly critical = true;

  constructor(dir: string) {
    this.dir = dir;
  }

  started(run: Run<unknown>): void {
    const { host, git, dependencies, sources } = run.env;
    writeAtomic(path.join(this.dir, "env.json"), recordJson({ host, git, dependencies }, 2) + "\n");
    if (sources) writeAtomic(path.join(this.dir, "sources.json"), recordJson(sources, 2) + "\n");
    this.writeRecord(run);
  }

  metrics(run: Run<unknown>, batch: MetricBatch[]): void {
    const file = path.join(this.dir, "metrics.csv");
    if (!this.metricsStarted) {
      appendSync(file, METRICS_HEADER);
      this.metricsStarted = true;
    }
    const writer = metricsWriter();
    if (!writer) {
      let text = "";
      for (const b of batch) text += formatRows(b.series, b.from, b.to);
      appendSync(file, text);
      return;
    }
    this.writer = writer;
    writer.write(file, "", batch.map((b) => ({ name: b.series.name, ...b.series.copyRange(b.from, b.to) })), (e) => run.fault(e));
  }

  async drain(): Promise<void> {
    await this.writer?.sync();
  }

  histogram(_run: Run<unknown>, h: Histogram): void {
    appendSync(path.join(this.dir, "histograms.jsonl"), recordJson(h) + "\n");
  }

  artifact(run: Run<unknown>): void {
    this.writeRecord(run);
  }

  output(_run: Run<unknown>, stream: "stdout" | "stderr", text: string): void {
    try {
      fs.appendFileSync(path.join(this.dir, "output.log"), stream === "stderr" ? text.replace(/^(?=.)/gm, "[stderr] ") : text);
    } catch {
      // losing a line of output must not break the program that printed it
    }
  }

  heartbeat(run: Run<unknown>): void {
    this.writeRecord(run);
  }

  ended(run: Run<unknown>): void {
    this.writeRecord(run);
    if (this.writer) this.writer.forget(path.join(this.dir, "metrics.csv"));
    if (run.env.git) {
      try {
        const envFile = path.join(this.dir, "env.json");
        const env = JSON.parse(fs.readFileSync(envFile, "utf8"));
        if (env.git?.dirty === undefined && run.env.git.dirty !== undefined) {
          env.git.dirty = run.env.git.dirty;
          writeAtomic(envFile, JSON.stringify(env, null, 2) + "\n");
        }
      } catch (e) {
        throw storeError("write", path.join(this.dir, "env.json"), e);
      }
    }
  }

  private writeRecord(run: Run<unknown>): void {
    writeAtomic(path.join(this.dir, "run.json"), recordJson(run.record(), 2) + "\n");
  }

  private readonly dir: string;
  private metricsStarted = false;
  private writer: ReturnType<typeof metricsWriter>;
}
