/**
 * The TensorBoard sink: each run's scalars, histograms and config as TensorBoard event files,
 * written as the run goes (at every flush of the run's points, several times a second), so that
 * a running `tensorboard --logdir` shows the run live. The local store stays the source of truth.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configEntries, storeError, type RunRecord } from "../../protocol";
import type { MetricBatch, RunSink, RunView } from "../../core/events";
import type { Histogram } from "../../core/metrics/histogram";
import { EventEncoder, fileVersionEvent, ProtoWriter, tagBytes } from "./events";

/** Where a run's event files go. */
export interface TensorBoardOptions {
  /**
   * A folder for every run's event files, one subfolder per run (`<experiment>/<number> <name>`,
   * as TensorBoard's run selector lists them). Default: `tensorboard/` in each run's own folder.
   */
  dir?: string;
}

let fileCounter = 0;

/** The subfolder of a run under a shared TensorBoard folder: `mnist/0003 baseline`. */
export function tensorboardRunFolder(run: Pick<RunRecord, "experiment" | "number" | "name">): string {
  const name = run.name.replace(/[/\\\u0000-\u001f]/g, "_").trim();
  return path.join(run.experiment, `${String(run.number).padStart(4, "0")}${name ? ` ${name}` : ""}`);
}

/** The config as a Markdown table for TensorBoard's Text tab. */
export function configMarkdown(record: Pick<RunRecord, "config" | "modified" | "added">): string {
  const entries = configEntries(record);
  if (entries.length === 0) return "(no config)";
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return ["| key | value |", "| --- | --- |", ...entries.map((e) => `| ${cell(e.key)}${e.modified ? " *" : ""} | ${cell(e.value)} |`)].join("\n");
}

/** Which run this is, for TensorBoard's Text tab. */
export function runMarkdown(record: Pick<RunRecord, "id" | "name" | "tags" | "notebook">): string {
  const rows = [`| run | ${record.id} |`, `| name | ${record.name} |`];
  if (record.tags.length) rows.push(`| tags | ${record.tags.join(", ")} |`);
  if (record.notebook) rows.push(`| notebook | ${record.notebook} |`);
  return ["| | |", "| --- | --- |", ...rows].join("\n");
}

/** How the run ended, for TensorBoard's Text tab. */
export function statusText(record: Pick<RunRecord, "status" | "error">): string {
  return `${record.status}${record.error ? `: ${record.error.message}` : ""}`;
}

/**
 * One run's event file: opened with the format's first event, appended to, closed at the end.
 * Used by the live sink and by `labnote export --to tensorboard`.
 */
export class EventFileWriter {
  readonly file: string;

  constructor(dir: string, startTimeMs: number) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(startTimeMs / 1000)}.${os.hostname()}.${process.pid}.${++fileCounter}`);
    const first = new ProtoWriter(64);
    first.record(fileVersionEvent(startTimeMs / 1000));
    this.fd = fs.openSync(this.file, "a");
    this.write(first.bytes());
  }

  /** Each point of the batch as a scalar event. */
  scalars(name: string, s: { step(i: number): number; value(i: number): number; time(i: number): number }, from: number, to: number): void {
    let tag = this.tags.get(name);
    if (tag === undefined) this.tags.set(name, (tag = tagBytes(name)));
    const enc = this.enc;
    for (let i = from; i < to; i++) {
      enc.scalar(tag, s.step(i), s.value(i), s.time(i));
      // Written in pieces of about 1 MB, so a long batch never holds much.
      if (enc.out.length >= 1 << 20) this.flush();
    }
  }

  histogram(h: Pick<Histogram, "name" | "step" | "time" | "edges" | "counts">): void {
    this.enc.histogram(h.name, h.step, h, h.time);
  }

  text(tag: string, step: number, markdown: string, timeMs: number): void {
    this.enc.text(tag, step, markdown, timeMs);
  }

  /** Write what was encoded. */
  flush(): void {
    if (this.enc.out.length === 0) return;
    this.write(this.enc.out.bytes());
    this.enc.out.reset();
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private write(bytes: Uint8Array): void {
    if (this.fd === undefined) return;
    try {
      let off = 0;
      while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (e) {
      throw storeError("write", this.file, e);
    }
  }

  private fd: number | undefined;
  private readonly enc = new EventEncoder();
  private readonly tags = new Map<string, Uint8Array>();
}

/**
 * Writes every run it sees as TensorBoard event files. Not critical: a write that fails is
 * reported once and the run goes on (its store is the source of truth).
 * @example experiment("mnist", { tensorboard: true })   // or { tensorboard: { dir: "runs/" } }
 */
export class TensorBoardSink implements RunSink {
  constructor(options: TensorBoardOptions = {}) {
    this.dir = options.dir === undefined ? undefined : path.resolve(options.dir);
  }

  started(run: RunView): void {
    const dir = this.dir !== undefined ? path.join(this.dir, tensorboardRunFolder(run)) : run.dir !== undefined ? path.join(run.dir, "tensorboard") : undefined;
    if (dir === undefined) return;
    const w = new EventFileWriter(dir, run.startTime);
    this.writers.set(run.id, w);
    const record = run.record();
    w.text("config", 0, configMarkdown(record), run.startTime);
    w.text("labnote", 0, runMarkdown(record), run.startTime);
    w.flush();
  }

  metrics(run: RunView, batch: MetricBatch[]): void {
    const w = this.writers.get(run.id);
    if (!w) return;
    for (const b of batch) w.scalars(b.series.name, b.series, b.from, b.to);
    w.flush();
  }

  histogram(run: RunView, h: Histogram): void {
    const w = this.writers.get(run.id);
    if (!w) return;
    w.histogram(h);
    w.flush();
  }

  ended(run: RunView): void {
    const w = this.writers.get(run.id);
    if (!w) return;
    const record = run.record();
    w.text("status", 0, statusText(record), record.endTime ?? Date.now());
    w.close();
    this.writers.delete(run.id);
  }

  drainSync(): void {
    for (const w of this.writers.values()) w.flush();
  }

  private readonly dir: string | undefined;
  private readonly writers = new Map<string, EventFileWriter>();
}
