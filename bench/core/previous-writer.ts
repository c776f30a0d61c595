/**
 * THE PREVIOUS WRITER (commit c2802c4), kept as the baseline the metrics writer is measured
 * against: a worker thread that turns every point into a CSV row (metricRows, unchanged in the
 * protocol since) and appends it to metrics.csv, with that version's backpressure. The worker
 * and its class are copied as they were; only the process-wide singleton and the exit hook are
 * left out, and a sink (the metrics part of that version's FileSink) plugs it into a run.
 * Not used by labnote itself.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { METRICS_HEADER, csvField, metricRows, storeError } from "../../src/protocol";
import type { MetricBatch, RunSink, RunView } from "../../src";

/** One metric's new points for one file. */
interface PointBatch {
  name: string;
  steps: Float64Array;
  values: Float64Array;
  times: Float64Array;
}

// The worker is a script in a string, so it starts the same from lib/, from sources loaded
// through a TypeScript loader, and inside a notebook kernel. It formats rows with the
// protocol's own functions, the ones the inline path uses: their source is placed here.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
${csvField.toString()}
${metricRows.toString()}
const pending = new Int32Array(workerData.pending);
// pending[0]: batches in flight; pending[1]: points in flight; pending[2]: rows written per second (moving average)
const fds = new Map();
function fdOf(file) {
  let fd = fds.get(file);
  if (fd === undefined) { fd = fs.openSync(file, "a"); fds.set(file, fd); }
  return fd;
}
function writeAll(fd, text) {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}
parentPort.on("message", (m) => {
  if (m.kind === "sync") { parentPort.postMessage({ kind: "synced", id: m.id }); return; }
  if (m.kind === "close") { const fd = fds.get(m.file); if (fd !== undefined) { fds.delete(m.file); try { fs.closeSync(fd); } catch {} } return; }
  let error;
  const t0 = Date.now();
  let rows = 0;
  try {
    const fd = fdOf(m.file);
    // Small strings, written often: they die young, so the collector has little to do.
    for (const b of m.batches) {
      const { steps, values, times } = b;
      for (let i = 0; i < steps.length; i += 2048) writeAll(fd, metricRows(b.name, steps, values, times, i, Math.min(steps.length, i + 2048)));
      rows += steps.length;
    }
  } catch (e) {
    error = { code: e && e.code, message: String(e && e.message || e) };
    const fd = fds.get(m.file);
    if (fd !== undefined) { fds.delete(m.file); try { fs.closeSync(fd); } catch {} }
  }
  const ms = Math.max(1, Date.now() - t0);
  if (rows > 10000) {
    const rate = Math.round((rows / ms) * 1000);
    const old = Atomics.load(pending, 2);
    Atomics.store(pending, 2, old ? Math.round(old * 0.7 + rate * 0.3) : rate);
  }
  Atomics.sub(pending, 1, m.points);
  Atomics.sub(pending, 0, 1);
  Atomics.notify(pending, 0);
  if (error) parentPort.postMessage({ kind: "error", file: m.file, error });
});
`;

type ErrorSink = (e: Error) => void;

/** How far behind the logging loop the file may fall, in the writer's own time. */
const MAX_LAG_MS = 150;

/** The previous writer thread (one per bench process). */
export class MetricsWriter {
  constructor() {
    this.pending = new Int32Array(new SharedArrayBuffer(12));
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pending: this.pending.buffer } });
    this.worker.unref();
    this.worker.on("message", (m: { kind: string; id?: number; file?: string; error?: { code?: string; message: string } }) => {
      if (m.kind === "synced") {
        this.waiters.get(m.id!)?.();
        this.waiters.delete(m.id!);
      } else if (m.kind === "error") {
        const err = storeError("write", m.file!, Object.assign(new Error(m.error!.message), { code: m.error!.code }));
        this.onError.get(m.file!)?.(err);
      }
    });
    this.worker.on("error", (e) => {
      this.broken = e;
      // Nothing more will be written: release whoever waits, and say why on their files.
      for (const sink of this.onError.values()) sink(storeError("write", "metrics.csv", e));
      for (const resolve of this.waiters.values()) resolve();
      this.waiters.clear();
    });
  }

  /** Post batches for a file; errors come back to `onError` of that file. */
  write(file: string, batches: PointBatch[], onError: ErrorSink): void {
    this.onError.set(file, onError);
    let points = 0;
    const transfer: ArrayBuffer[] = [];
    for (const b of batches) {
      points += b.steps.length;
      transfer.push(b.steps.buffer as ArrayBuffer, b.values.buffer as ArrayBuffer, b.times.buffer as ArrayBuffer);
    }
    this.throttle(points);
    Atomics.add(this.pending, 0, 1);
    Atomics.add(this.pending, 1, points);
    this.worker.postMessage({ kind: "write", file, batches, points }, transfer);
  }

  /**
   * Backpressure: keep at most ~MAX_LAG_MS of the writer's work in flight, so a crash loses at
   * most that much. Only a loop that logs faster than the disk writer can format ever waits.
   */
  private throttle(incoming: number): void {
    const rate = Atomics.load(this.pending, 2) || 1_000_000;
    const budget = Math.max(50_000, Math.floor((rate * MAX_LAG_MS) / 1000));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const inFlight = Atomics.load(this.pending, 1);
      if (inFlight + incoming <= budget || inFlight <= 0 || this.broken || Date.now() > deadline) return;
      const batches = Atomics.load(this.pending, 0);
      Atomics.wait(this.pending, 0, batches, 50);
    }
  }

  /** Resolves when everything posted so far is written. */
  sync(): Promise<void> {
    const id = ++this.syncId;
    if (this.broken) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.set(id, () => resolve());
      this.worker.ref();
      this.worker.postMessage({ kind: "sync", id });
    }).then(() => {
      if (this.waiters.size === 0) this.worker.unref();
    });
  }

  /** Block until everything posted is written (exit path), at most `ms`. */
  syncBlocking(ms = 5000): void {
    const deadline = Date.now() + ms;
    for (;;) {
      const n = Atomics.load(this.pending, 0);
      if (n <= 0 || this.broken) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.pending, 0, n, Math.min(left, 100));
    }
  }

  /** The run is done with this file: close it once what was posted is written. */
  forget(file: string): void {
    this.onError.delete(file);
    this.worker.postMessage({ kind: "close", file });
  }

  broken: unknown;
  private readonly worker: Worker;
  private readonly pending: Int32Array;
  private readonly waiters = new Map<number, () => void>();
  private readonly onError = new Map<string, ErrorSink>();
  private syncId = 0;
}


/** The metrics part of the previous FileSink: a run's points to `<dir>/metrics.csv` through the previous writer. */
export class PreviousCsvSink implements RunSink {
  readonly critical = true;

  constructor(dir: string, writer: MetricsWriter) {
    this.file = path.join(dir, "metrics.csv");
    this.writer = writer;
  }

  metrics(_run: RunView, batch: MetricBatch[]): void {
    if (this.failed) throw this.failed;
    if (!this.headerWritten) {
      fs.appendFileSync(this.file, METRICS_HEADER);
      this.headerWritten = true;
    }
    this.writer.write(this.file, batch.map((b) => ({ name: b.series.name, ...b.series.copyRange(b.from, b.to) })), (e) => {
      this.failed ??= e;
    });
  }

  async drain(): Promise<void> {
    await this.writer.sync();
    if (this.failed) throw this.failed;
  }

  ended(): void {
    this.writer.forget(this.file);
  }

  private readonly file: string;
  private readonly writer: MetricsWriter;
  private headerWritten = false;
  private failed: Error | undefined;
}
