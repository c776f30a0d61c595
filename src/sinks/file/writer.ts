import { Worker } from "node:worker_threads";
import { METRICS_HEADER, csvField, decodeColumn, metricRows, storeError } from "../../protocol";
import { warn } from "../../core/util/warn";

/**
 * The background metrics writer: one worker thread per process appends the bytes of metric
 * columns (24 bytes a point, already laid out by the logging thread: no formatting), replaces
 * small files atomically (the index, summaries), and after a run ended writes its metrics.csv
 * from the columns, in short slices, so that it never holds up the next run's writes.
 *
 * Shared counters let the logging thread bound what is in flight (so a crash loses little and
 * memory stays bounded whatever the logging rate) and let the exit path wait (Atomics.wait)
 * until the worker has written everything, metrics.csv files included.
 */

// The worker is a script in a string, so it starts the same from lib/, from sources loaded
// through a TypeScript loader, and inside a notebook kernel. It reads columns and formats CSV
// rows with the protocol's own functions: their source is placed here (none of them holds a
// nested function, which a loader could wrap in helpers the worker does not have).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
${csvField.toString()}
${metricRows.toString()}
${decodeColumn.toString()}
const METRICS_HEADER = ${JSON.stringify(METRICS_HEADER)};
const CSV_SLICE_MS = 4;
const pending = new Int32Array(workerData.pending);
// [0] messages in flight, [1] kilobytes in flight, [2] kilobytes written per second (moving
// average), [3] metrics.csv files queued or being written
const fds = new Map();
// Folders where a write failed: their files are closed and nothing more is written there, so
// a full disk is reported once and leaves no file open.
const failed = new Set();
let tmpCount = 0;
function fdOf(file) {
  let fd = fds.get(file);
  if (fd === undefined) { fd = fs.openSync(file, "a"); fds.set(file, fd); }
  return fd;
}
function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}
function closeFile(file) {
  const fd = fds.get(file);
  if (fd !== undefined) { fds.delete(file); try { fs.closeSync(fd); } catch {} }
}
function closeFolder(dir) {
  for (const file of [...fds.keys()]) if (path.dirname(file) === dir) closeFile(file);
}
function replace(file, data) {
  const tmp = path.join(path.dirname(file), "." + path.basename(file) + "." + process.pid + "." + (++tmpCount) + ".tmp");
  try { fs.writeFileSync(tmp, data); fs.renameSync(tmp, file); }
  catch (e) { try { fs.rmSync(tmp, { force: true }); } catch {} throw e; }
}
// metrics.csv of a finished run, from its columns, a slice at a time between other messages.
const csvJobs = [];
let csvBusy = false;
function csvFinished(job, error) {
  Atomics.sub(pending, 3, 1);
  Atomics.notify(pending, 3);
  parentPort.postMessage({ kind: "csv-done", dir: job.dir, error: error ? { code: error.code, message: String(error.message || error) } : undefined });
  csvBusy = false;
  setImmediate(nextCsv);
}
function nextCsv() {
  if (csvBusy || csvJobs.length === 0) return;
  csvBusy = true;
  const job = csvJobs.shift();
  if (job.metrics.some((m) => failed.has(path.dirname(path.join(job.dir, m.file))))) return csvFinished(job);
  const tmp = path.join(job.dir, "." + job.csv + "." + process.pid + "." + (++tmpCount) + ".tmp");
  // A column is read a slice at a time (whole points only: a torn last one is left out).
  const slice = Buffer.allocUnsafeSlow(4096 * 24);
  let fd, col, k = 0, at = 0, n = 0;
  const step = () => {
    try {
      if (fd === undefined) { fd = fs.openSync(tmp, "w"); writeAll(fd, Buffer.from(METRICS_HEADER)); }
      const until = Date.now() + CSV_SLICE_MS;
      while (Date.now() < until) {
        if (col === undefined) {
          if (k >= job.metrics.length) {
            fs.closeSync(fd);
            fd = undefined;
            fs.renameSync(tmp, path.join(job.dir, job.csv));
            return csvFinished(job);
          }
          col = fs.openSync(path.join(job.dir, job.metrics[k].file), "r");
          n = Math.floor(fs.fstatSync(col).size / 24);
          at = 0;
        }
        const want = Math.min(4096, n - at) * 24;
        let got = 0;
        while (got < want) { const r = fs.readSync(col, slice, got, want - got, at * 24 + got); if (r === 0) break; got += r; }
        const c = decodeColumn(slice.subarray(0, got));
        if (c.steps.length > 0) writeAll(fd, Buffer.from(metricRows(job.metrics[k].name, c.steps, c.values, c.times), "utf8"));
        at += c.steps.length;
        if (at >= n || got < want) { fs.closeSync(col); col = undefined; k++; }
      }
      setImmediate(step);
    } catch (e) {
      for (const f of [fd, col]) if (f !== undefined) try { fs.closeSync(f); } catch {}
      try { fs.rmSync(tmp, { force: true }); } catch {}
      csvFinished(job, e);
    }
  };
  step();
}
parentPort.on("message", (m) => {
  if (m.kind === "sync") { parentPort.postMessage({ kind: "synced", id: m.id }); return; }
  if (m.kind === "close") { closeFile(m.file); return; }
  // Started on a later turn, so that a sync posted with it is answered first.
  if (m.kind === "csv") { csvJobs.push(m); setImmediate(nextCsv); return; }
  let error;
  const t0 = Date.now();
  const dir = path.dirname(m.file);
  try {
    if (failed.has(dir)) error = undefined;
    else if (m.kind === "append") writeAll(fdOf(m.file), Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    else if (m.kind === "replace") replace(m.file, m.data);
  } catch (e) {
    error = { code: e && e.code, message: String(e && e.message || e) };
    failed.add(dir);
    closeFolder(dir);
  }
  const ms = Math.max(1, Date.now() - t0);
  if (m.kb > 256) {
    const rate = Math.round((m.kb / ms) * 1000);
    const old = Atomics.load(pending, 2);
    Atomics.store(pending, 2, old ? Math.round(old * 0.7 + rate * 0.3) : rate);
  }
  Atomics.sub(pending, 1, m.kb);
  Atomics.sub(pending, 0, 1);
  Atomics.notify(pending, 0);
  if (error) parentPort.postMessage({ kind: "error", file: m.file, error });
});
`;

type ErrorSink = (e: Error) => void;

/**
 * How far behind the logging loop the files may fall, in the writer's own time. With the
 * 150 ms flush, a point is on disk at most about 200 ms after it was logged.
 */
const MAX_LAG_MS = 50;
/** Bounds on the bytes in flight, in KB: enough to batch well, never more than this whatever the rate. */
const MIN_BUDGET_KB = 4096;
const MAX_BUDGET_KB = 65_536;
/** How long the exit path waits for metrics.csv files still being written. */
const EXIT_CSV_MS = 10_000;

/** The process's metrics writer thread. */
export class MetricsWriter {
  constructor() {
    this.pending = new Int32Array(new SharedArrayBuffer(16));
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pending: this.pending.buffer } });
    this.worker.on("message", (m: { kind: string; id?: number; file?: string; dir?: string; error?: { code?: string; message: string } }) => {
      if (m.kind === "synced") {
        this.waiters.get(m.id!)?.();
        this.waiters.delete(m.id!);
        this.unrefWhenIdle();
      } else if (m.kind === "error") {
        const err = storeError("write", m.file!, Object.assign(new Error(m.error!.message), { code: m.error!.code }));
        this.onError.get(this.owner.get(m.file!) ?? "")?.(err);
      } else if (m.kind === "csv-done") {
        // The run is already ended and its columns are whole: say so once, `labnote export` can redo it.
        if (m.error) warn(`${storeError("write", `${m.dir}/metrics.csv`, Object.assign(new Error(m.error.message), { code: m.error.code })).message}; the run's metrics are intact, \`labnote export\` writes the file later`);
        if (Atomics.load(this.pending, 3) <= 0) {
          for (const resolve of this.csvWaiters.splice(0)) resolve();
          this.unrefWhenIdle();
        }
      }
    });
    this.worker.on("error", (e) => {
      this.broken = e;
      // Nothing more will be written: release whoever waits, and say why.
      for (const sink of this.onError.values()) sink(storeError("write", "the metrics files", e));
      for (const resolve of this.waiters.values()) resolve();
      for (const resolve of this.csvWaiters.splice(0)) resolve();
      this.waiters.clear();
    });
    // After the listeners: adding a "message" listener refs the worker again, and an idle
    // writer must never keep the process alive.
    this.worker.unref();
  }

  /** Register where errors about a run's files go; `dir` is the run's folder. */
  watch(dir: string, onError: ErrorSink): void {
    this.onError.set(dir, onError);
  }

  /** Append bytes to a file of the run in `dir` (the buffer is handed over, not copied). */
  append(dir: string, file: string, data: Uint8Array): void {
    const kb = Math.ceil(data.byteLength / 1024);
    this.throttle(kb);
    this.post({ kind: "append", file, data, kb }, dir, kb, [data.buffer as ArrayBuffer]);
  }

  /** Replace a small file of the run in `dir` atomically. */
  replace(dir: string, file: string, data: string): void {
    this.post({ kind: "replace", file, data, kb: 0 }, dir, 0);
  }

  /**
   * The run in `dir` ended: close its files once what was posted is written, then write its
   * metrics.csv (file `csv`) from the columns, in the background.
   */
  finish(dir: string, files: string[], csv: { file: string; metrics: { name: string; file: string }[] } | undefined): void {
    this.onError.delete(dir);
    for (const file of files) {
      this.owner.delete(file);
      this.worker.postMessage({ kind: "close", file });
    }
    if (csv === undefined || csv.metrics.length === 0) return;
    Atomics.add(this.pending, 3, 1);
    this.worker.postMessage({ kind: "csv", dir, csv: csv.file, metrics: csv.metrics });
  }

  /**
   * Backpressure: keep at most ~MAX_LAG_MS of the writer's work in flight, so a crash loses at
   * most that much and memory stays bounded. Only a loop that logs faster than the disk takes
   * ever waits.
   */
  private throttle(incomingKb: number): void {
    const rate = Atomics.load(this.pending, 2) || 200_000; // KB/s until measured
    const budget = Math.min(MAX_BUDGET_KB, Math.max(MIN_BUDGET_KB, Math.floor((rate * MAX_LAG_MS) / 1000)));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const inFlight = Atomics.load(this.pending, 1);
      if (inFlight + incomingKb <= budget || inFlight <= 0 || this.broken || Date.now() > deadline) return;
      Atomics.wait(this.pending, 0, Atomics.load(this.pending, 0), 50);
    }
  }

  private post(message: { kind: string; file: string; kb: number; data: unknown }, dir: string, kb: number, transfer: ArrayBuffer[] = []): void {
    this.owner.set(message.file, dir);
    Atomics.add(this.pending, 0, 1);
    Atomics.add(this.pending, 1, kb);
    this.worker.postMessage(message, transfer);
  }

  /** Resolves when everything posted so far is written (metrics.csv files in the making excepted). */
  sync(): Promise<void> {
    const id = ++this.syncId;
    if (this.broken) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.set(id, () => resolve());
      this.worker.ref();
      this.worker.postMessage({ kind: "sync", id });
    });
  }

  /** Resolves when every metrics.csv queued so far is written (or given up on). */
  csvWritten(): Promise<void> {
    if (this.broken || Atomics.load(this.pending, 3) <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.csvWaiters.push(resolve);
      this.worker.ref();
    });
  }

  /** Block until everything posted is written (exit path), at most `ms`. */
  syncBlocking(ms = 5000): void {
    this.blockOn(0, ms);
  }

  /** Block until the metrics.csv files queued so far are written (exit path), at most `ms`. */
  csvBlocking(ms = EXIT_CSV_MS): void {
    this.blockOn(3, ms);
  }

  private blockOn(slot: number, ms: number): void {
    const deadline = Date.now() + ms;
    for (;;) {
      const n = Atomics.load(this.pending, slot);
      if (n <= 0 || this.broken) return;
      const left = deadline - Date.now();
      if (left <= 0) return;
      Atomics.wait(this.pending, slot, n, Math.min(left, 100));
    }
  }

  private unrefWhenIdle(): void {
    if (this.waiters.size === 0 && this.csvWaiters.length === 0) this.worker.unref();
  }

  broken: unknown;
  private readonly worker: Worker;
  private readonly pending: Int32Array;
  private readonly waiters = new Map<number, () => void>();
  private readonly csvWaiters: (() => void)[] = [];
  private readonly onError = new Map<string, ErrorSink>();
  private readonly owner = new Map<string, string>();
  private syncId = 0;
}

let shared: MetricsWriter | undefined;
let failed = false;

/** The process's writer, or undefined when worker threads are unavailable (then write inline). */
export function metricsWriter(): MetricsWriter | undefined {
  if (failed) return undefined;
  if (shared && !shared.broken) return shared;
  try {
    shared = new MetricsWriter();
    // Runs that ended before the exit get their metrics.csv; runs ended by the exit itself
    // wait for theirs in their own drainSync.
    process.on("exit", () => {
      shared?.syncBlocking();
      shared?.csvBlocking();
    });
    return shared;
  } catch {
    failed = true;
    return undefined;
  }
}

/**
 * Resolves once every run that ended in this process has its metrics.csv written. `await
 * run.end()` returns as soon as the record and the metric columns are on disk; metrics.csv
 * follows in the background (and a normal exit waits for it).
 */
export function whenWritten(): Promise<void> {
  return shared && !shared.broken ? shared.csvWritten() : Promise.resolve();
}
