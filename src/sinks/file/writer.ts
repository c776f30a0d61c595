import { Worker } from "node:worker_threads";
import { METRICS_HEADER, RUN_FILES, csvField, decodeColumn, metricRows, storeError } from "../../protocol";

/**
 * The background metrics writer: one worker thread per process appends the bytes of metric
 * columns (24 bytes a point, already laid out by the logging thread: no formatting), replaces
 * small files atomically (the index, summaries), and after a run ended writes its metrics.csv
 * from the columns, in slices, so that it never holds up the next run's writes.
 *
 * A shared counter of bytes in flight lets the exit path wait (Atomics.wait) until the worker has
 * written everything, and bounds what a crash can lose.
 */

// The worker is a script in a string, so it starts the same from lib/, from sources loaded
// through a TypeScript loader, and inside a notebook kernel. It reads columns and formats CSV
// rows with the protocol's own functions: their source is placed here.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
${csvField.toString()}
${metricRows.toString()}
${decodeColumn.toString()}
const METRICS_HEADER = ${JSON.stringify(METRICS_HEADER)};
const pending = new Int32Array(workerData.pending);
// pending[0]: messages in flight; pending[1]: kilobytes in flight; pending[2]: kilobytes written per second (moving average)
const fds = new Map();
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
function replace(file, data) {
  const tmp = path.join(path.dirname(file), "." + path.basename(file) + "." + process.pid + "." + (++tmpCount) + ".tmp");
  try { fs.writeFileSync(tmp, data); fs.renameSync(tmp, file); }
  catch (e) { try { fs.rmSync(tmp, { force: true }); } catch {} throw e; }
}
// metrics.csv of a finished run, from its columns, a slice at a time between other messages.
const csvJobs = [];
let csvBusy = false;
function nextCsv() {
  if (csvBusy || csvJobs.length === 0) return;
  csvBusy = true;
  const job = csvJobs.shift();
  const tmp = path.join(job.dir, ".metrics.csv." + process.pid + "." + (++tmpCount) + ".tmp");
  let fd;
  let k = 0, cols = null, i = 0;
  const done = (error) => {
    if (fd !== undefined) try { fs.closeSync(fd); } catch {}
    if (error) { try { fs.rmSync(tmp, { force: true }); } catch {} }
    else { try { fs.renameSync(tmp, path.join(job.dir, job.csv)); } catch {} }
    csvBusy = false;
    setImmediate(nextCsv);
  };
  const step = () => {
    try {
      if (fd === undefined) { fd = fs.openSync(tmp, "w"); writeAll(fd, Buffer.from(METRICS_HEADER)); }
      const until = Date.now() + 20;
      while (Date.now() < until) {
        if (cols === null) {
          if (k >= job.metrics.length) return done();
          cols = decodeColumn(fs.readFileSync(path.join(job.dir, job.metrics[k].file)));
          i = 0;
        }
        const to = Math.min(cols.steps.length, i + 8192);
        writeAll(fd, Buffer.from(metricRows(job.metrics[k].name, cols.steps, cols.values, cols.times, i, to), "utf8"));
        i = to;
        if (i >= cols.steps.length) { cols = null; k++; }
      }
      setImmediate(step);
    } catch (e) { done(e); }
  };
  step();
}
parentPort.on("message", (m) => {
  if (m.kind === "sync") { parentPort.postMessage({ kind: "synced", id: m.id }); return; }
  if (m.kind === "close") { closeFile(m.file); return; }
  if (m.kind === "csv") { csvJobs.push(m); nextCsv(); return; }
  let error;
  const t0 = Date.now();
  try {
    if (m.kind === "append") writeAll(fdOf(m.file), Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    else if (m.kind === "replace") replace(m.file, m.data);
  } catch (e) {
    error = { code: e && e.code, message: String(e && e.message || e) };
    closeFile(m.file);
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

/** How far behind the logging loop the files may fall, in the writer's own time. */
const MAX_LAG_MS = 150;

/** The process's metrics writer thread. */
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
        this.onError.get(this.owner.get(m.file!) ?? "")?.(err);
      }
    });
    this.worker.on("error", (e) => {
      this.broken = e;
      // Nothing more will be written: release whoever waits, and say why.
      for (const sink of this.onError.values()) sink(storeError("write", "the metrics files", e));
      for (const resolve of this.waiters.values()) resolve();
      this.waiters.clear();
    });
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

  /** After the run ended: write `dir/metrics.csv` from its columns, in the background. */
  writeCsv(dir: string, metrics: { name: string; file: string }[]): void {
    this.worker.postMessage({ kind: "csv", dir, csv: RUN_FILES.metrics, metrics });
  }

  /**
   * Backpressure: keep at most ~MAX_LAG_MS of the writer's work in flight, so a crash loses at
   * most that much. Only a loop that logs faster than the disk takes ever waits.
   */
  private throttle(incomingKb: number): void {
    const rate = Atomics.load(this.pending, 2) || 200_000; // KB/s until measured
    const budget = Math.max(4096, Math.floor((rate * MAX_LAG_MS) / 1000));
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

  /** Resolves when everything posted so far is written (a metrics.csv in the making excepted). */
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

  /** The run in `dir` is done with `files`: close them once what was posted is written. */
  forget(dir: string, files: string[]): void {
    this.onError.delete(dir);
    for (const file of files) {
      this.owner.delete(file);
      this.worker.postMessage({ kind: "close", file });
    }
  }

  broken: unknown;
  private readonly worker: Worker;
  private readonly pending: Int32Array;
  private readonly waiters = new Map<number, () => void>();
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
    process.on("exit", () => shared?.syncBlocking());
    return shared;
  } catch {
    failed = true;
    return undefined;
  }
}
