import { Worker } from "node:worker_threads";
import { METRICS_HEADER, POINT_BYTES, csvField, decodeColumn, encodeColumnInto, metricRows, storeError, type PointSource } from "../../protocol";
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
// While a run is logging (an append came in the last CSV_QUIET_MS), metrics.csv files are
// written in short slices far apart, so that the logging thread keeps the cores.
const CSV_QUIET_MS = 100;
const CSV_BUSY_SLICE_MS = 1;
const CSV_BUSY_GAP_MS = 20;
let lastAppend = 0;
const pending = new Int32Array(workerData.pending);
// [0] messages in flight, [1] bytes of the ring in flight, [2] kilobytes written per second
// (moving average), [3] metrics.csv files queued or being written
const ring = Buffer.from(workerData.ring);
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
      const busy = Date.now() - lastAppend < CSV_QUIET_MS;
      const until = Date.now() + (busy ? CSV_BUSY_SLICE_MS : CSV_SLICE_MS);
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
      if (busy) setTimeout(step, CSV_BUSY_GAP_MS);
      else setImmediate(step);
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
    else if (m.kind === "append") { lastAppend = t0; writeAll(fdOf(m.file), ring.subarray(m.off, m.off + m.len)); }
    else if (m.kind === "replace") replace(m.file, m.data);
  } catch (e) {
    error = { code: e && e.code, message: String(e && e.message || e) };
    failed.add(dir);
    closeFolder(dir);
  }
  const ms = Math.max(1, Date.now() - t0);
  if (m.kind === "append" && m.len > 262144) {
    const rate = Math.round((m.len / 1024 / ms) * 1000);
    const old = Atomics.load(pending, 2);
    Atomics.store(pending, 2, old ? Math.round(old * 0.7 + rate * 0.3) : rate);
  }
  // The ring's bytes (and a tail skipped to keep a batch whole) are free again.
  if (m.kind === "append") Atomics.sub(pending, 1, m.len + m.skip);
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
/**
 * The ring the logging thread lays points out in and the worker writes from: the writer's
 * memory, whatever the logging rate (16 MB, about 700,000 points in flight at most).
 */
const RING_BYTES = 16 * 1024 * 1024;
/** Points laid out per message: a whole flush of one metric, usually. */
const PIECE_POINTS = 65_536;
/** Bytes in flight the lag budget always allows, however slow the writer was measured. */
const MIN_BUDGET = 4 * 1024 * 1024;
/** How long the exit path waits for metrics.csv files still being written. */
const EXIT_CSV_MS = 10_000;

/** The process's metrics writer thread. */
export class MetricsWriter {
  constructor() {
    this.pending = new Int32Array(new SharedArrayBuffer(16));
    this.ring = new SharedArrayBuffer(RING_BYTES);
    this.ringF64 = new Float64Array(this.ring);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pending: this.pending.buffer, ring: this.ring } });
    this.worker.on("message", (m: { kind: string; id?: number; file?: string; dir?: string; error?: { code?: string; message: string } }) => {
      if (m.kind === "synced") {
        this.waiters.get(m.id!)?.();
        this.waiters.delete(m.id!);
        this.unrefWhenIdle();
      } else if (m.kind === "error") {
        const err = storeError("write", m.file!, Object.assign(new Error(m.error!.message), { code: m.error!.code }));
        this.onError.get(this.owner.get(m.file!) ?? "")?.(err);
      } else if (m.kind === "csv-done") {
        const done = this.csvDone.get(m.dir!);
        this.csvDone.delete(m.dir!);
        done?.();
        // The run is already ended and its columns are whole: say so once, `labnote export` can redo it.
        if (m.error) warn(`${storeError("write", `${m.dir}/metrics.csv`, Object.assign(new Error(m.error.message), { code: m.error.code })).message}; the run's metrics are intact, \`labnote export\` writes the file later`);
        if (Atomics.load(this.pending, 3) <= 0 && this.csvDone.size === 0) {
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

  /**
   * Append points [from, to) of `src` to a column file of the run in `dir`: laid out straight
   * into the shared ring (no buffer allocated, nothing copied twice), written by the worker.
   */
  appendPoints(dir: string, file: string, src: PointSource, from: number, to: number): void {
    for (let i = from; i < to; i += PIECE_POINTS) {
      const end = Math.min(to, i + PIECE_POINTS);
      const len = (end - i) * POINT_BYTES;
      const skip = this.pos + len > RING_BYTES ? RING_BYTES - this.pos : 0;
      this.throttle(len + skip);
      if (this.broken) return;
      if (skip) this.pos = 0;
      encodeColumnInto(src, i, end, this.ringF64, this.pos / 8);
      this.owner.set(file, dir);
      Atomics.add(this.pending, 0, 1);
      Atomics.add(this.pending, 1, len + skip);
      this.worker.postMessage({ kind: "append", file, off: this.pos, len, skip });
      this.pos += len;
    }
  }

  /** Replace a small file of the run in `dir` atomically. */
  replace(dir: string, file: string, data: string): void {
    this.post({ kind: "replace", file, data }, dir);
  }

  /**
   * The run in `dir` ended: close its files once what was posted is written, then write its
   * metrics.csv (file `csv`) from the columns, in the background; `done` is called once the
   * run's folder holds everything (metrics.csv written or given up on).
   */
  finish(dir: string, files: string[], csv: { file: string; metrics: { name: string; file: string }[] } | undefined, done?: () => void): void {
    this.onError.delete(dir);
    for (const file of files) {
      this.owner.delete(file);
      this.worker.postMessage({ kind: "close", file });
    }
    if (csv === undefined || csv.metrics.length === 0) return done?.();
    if (done) this.csvDone.set(dir, done);
    Atomics.add(this.pending, 3, 1);
    this.worker.postMessage({ kind: "csv", dir, csv: csv.file, metrics: csv.metrics });
  }

  /**
   * Backpressure: keep at most ~MAX_LAG_MS of the writer's work in flight, so a crash loses at
   * most that much, and never more than the ring holds. Only a loop that logs faster than the
   * disk takes ever waits.
   */
  private throttle(incoming: number): void {
    const rate = (Atomics.load(this.pending, 2) || 200_000) * 1024; // bytes/s, a guess until measured
    const budget = Math.min(RING_BYTES, Math.max(MIN_BUDGET, Math.floor((rate * MAX_LAG_MS) / 1000)));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const inFlight = Atomics.load(this.pending, 1);
      if (inFlight <= 0 || this.broken) return;
      // The ring's limit is hard (its bytes would be overwritten); the lag budget gives way after a while.
      if (inFlight + incoming <= RING_BYTES && (inFlight + incoming <= budget || Date.now() > deadline)) return;
      Atomics.wait(this.pending, 0, Atomics.load(this.pending, 0), 50);
    }
  }

  private post(message: { kind: string; file: string; data: unknown }, dir: string): void {
    this.owner.set(message.file, dir);
    Atomics.add(this.pending, 0, 1);
    this.worker.postMessage(message);
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
    if (this.broken || (Atomics.load(this.pending, 3) <= 0 && this.csvDone.size === 0)) return Promise.resolve();
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
    // The worker's "done" messages will not be read any more: their folders are complete now.
    const done = [...this.csvDone.values()];
    this.csvDone.clear();
    for (const d of done) d();
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
  private readonly ring: SharedArrayBuffer;
  private readonly ringF64: Float64Array;
  /** Where the next points go in the ring. */
  private pos = 0;
  private readonly worker: Worker;
  private readonly pending: Int32Array;
  private readonly waiters = new Map<number, () => void>();
  private readonly csvWaiters: (() => void)[] = [];
  private readonly csvDone = new Map<string, () => void>();
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
