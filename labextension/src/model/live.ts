/**
 * What one notebook's kernel is doing with its runs. Fed from the kernel's IOPub (run payloads
 * in `display_data` / `update_display_data`), from the runs' records on disk, and from the
 * session's status:
 * - when the kernel dies or restarts, the runs it was running are settled from their run.json
 *   (a restarted kernel writes `interrupted`; a killed one leaves `running`, shown `died`), so
 *   the card, the panel and the file say the same;
 * - when the page is (re)loaded while a run is running, the run is found from its record and
 *   heartbeat: tslab reports `idle` while a cell awaits, so the kernel's status cannot say it.
 * Everything learnt is published to the run registry, which routes it to every card of the run.
 */
import type { ISessionContext } from "@jupyterlab/apputils";
import { PathExt } from "@jupyterlab/coreutils";
import type { KernelMessage } from "@jupyterlab/services";
import { Signal, type ISignal } from "@lumino/signaling";
import { decode, MIME, type RunPayload } from "../protocol";
import { isNewer, type RunRegistry } from "./registry";
import type { HistoryRun, Liveness, RunStore } from "./store";

/** A run as the panel knows it. */
export interface LiveRun {
  readonly id: string;
  /** The newest word on the run; its status is the one shown. */
  payload: RunPayload;
  /** Where that word came from: the kernel's messages, or the run's record on disk. */
  source: "kernel" | "disk";
  /** Browser time of the first and the last word about this run. */
  firstSeen: number;
  lastSeen: number;
}

/** The session's status and signals that the model reads (a fake in unit tests). */
export type SessionLike = Pick<ISessionContext, "iopubMessage" | "statusChanged" | "kernelChanged" | "kernelDisplayStatus">;

/** Where the model reads records: the store of this notebook (undefined when it cannot be reached). */
export interface LiveRunsOptions {
  registry: RunRegistry;
  /** The store for `root` (relative to the notebook's folder; undefined: the configured default). */
  store(root: string | undefined): RunStore | undefined;
  /** The notebook's path relative to the server root. */
  notebookPath(): string;
}

/** Kernel states in which the kernel's process is gone. */
const GONE = new Set(["dead", "autorestarting"]);
/** Kernel states in which the kernel's process is being stopped (it may still be writing records). */
const STOPPING = new Set(["restarting", "terminating"]);
/** How long to wait for a stopping kernel to come back before treating its process as gone. */
const STOP_WAIT_MS = 20_000;
/** How many times, a second apart, a run inferred `died` has its record read again. */
const RECHECKS = 10;
/** How often runs known only from disk are re-read (the kernel writes a heartbeat every 5 s). */
const DISK_POLL_MS = 10_000;

/** The runs of one notebook's kernel, newest first. */
export class LiveRuns {
  constructor(session: SessionLike, options: LiveRunsOptions) {
    this._session = session;
    this._options = options;
    this._liveness = { dead: (id) => options.registry.isDead(id) };
    session.iopubMessage.connect(this._onIopub, this);
    session.statusChanged.connect(this._onStatus, this);
    session.kernelChanged.connect(this._onKernelChanged, this);
  }

  /** Emits the run that changed, or undefined when several did. */
  get changed(): ISignal<this, LiveRun | undefined> {
    return this._changed;
  }

  /** Emits when the kernel's status changes. */
  get kernelStatusChanged(): ISignal<this, string> {
    return this._kernelStatusChanged;
  }

  /** Newest first (by start time). */
  get runs(): LiveRun[] {
    if (!this._sorted) this._sorted = [...this._runs.values()].sort((a, b) => b.payload.startTime - a.payload.startTime || b.firstSeen - a.firstSeen);
    return this._sorted;
  }

  /** How many runs are running now. */
  get runningCount(): number {
    let n = 0;
    for (const r of this._runs.values()) if (r.payload.status === "running") n++;
    return n;
  }

  /** The run with this id, if this kernel ran it. */
  get(id: string): LiveRun | undefined {
    return this._runs.get(id);
  }

  /** The store root (relative to the notebook's folder) the kernel reports, once it has sent a run. */
  get root(): string | undefined {
    return this._root;
  }

  /** The kernel's display status as JupyterLab reports it. */
  get kernelStatus(): string {
    return this._session.kernelDisplayStatus;
  }

  /** Whether this kernel has sent anything from labnote. */
  get seen(): boolean {
    return this._runs.size > 0 || this._otherSeen;
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Stop listening and polling. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    clearTimeout(this._stopTimer);
    clearInterval(this._pollTimer);
    Signal.clearData(this);
    this._runs.clear();
  }

  /** Take one IOPub message; public so tests and benches can feed the model directly. */
  handle(msg: KernelMessage.IMessage): void {
    const type = msg.header.msg_type;
    if (type !== "display_data" && type !== "update_display_data" && type !== "execute_result") return;
    const data = (msg.content as { data?: Record<string, unknown> }).data;
    if (!data) return;
    if (!(MIME.run in data)) {
      if (MIME.progress in data || MIME.table in data) this._otherSeen = true;
      return;
    }
    const d = decode(MIME.run, data[MIME.run]);
    if (!d.ok || d.payload.kind !== "run") return;
    this._root = d.payload.root;
    this._take(d.payload, "kernel");
  }

  /**
   * Find the runs this notebook is running from their records (status `running`, fresh
   * heartbeat): after a page reload the kernel has not said anything yet.
   */
  async findRunning(): Promise<void> {
    const store = this._options.store(this._root);
    if (!store) return;
    const found = await store.running(this._liveness, this._options.notebookPath());
    if (this._disposed) return;
    for (const run of found) if (!this._runs.has(run.id)) await this._takeRecord(store, run);
    this._startPolling();
  }

  private _take(p: RunPayload, source: LiveRun["source"]): void {
    const now = Date.now();
    let run = this._runs.get(p.id);
    if (!run) {
      run = { id: p.id, payload: p, source, firstSeen: now, lastSeen: now };
      this._runs.set(p.id, run);
      this._sorted = undefined;
    } else {
      if (!isNewer(run.payload, p)) return;
      if (p.startTime !== run.payload.startTime) this._sorted = undefined;
      run.payload = p;
      run.source = source;
      run.lastSeen = now;
    }
    this._options.registry.publish(p);
    this._changed.emit(run);
  }

  private async _takeRecord(store: RunStore, run: HistoryRun): Promise<void> {
    const dir = PathExt.dirname(this._options.notebookPath());
    const p = await store.payload(run, dir);
    if (!this._disposed) this._take({ ...p, sentAt: Math.max(p.sentAt, this._runs.get(p.id)?.payload.sentAt ?? 0) }, "disk");
  }

  private _onIopub(_: unknown, msg: KernelMessage.IMessage): void {
    this.handle(msg);
  }

  private _onStatus(_: unknown, status: string): void {
    if (GONE.has(status)) void this._settle(true);
    else if (STOPPING.has(status)) {
      if (!this._stopping) {
        this._stopping = true;
        // The stopping process writes its runs' ends; read them until they are there. What the
        // session reports meanwhile varies (a restarted connection may stay "unknown").
        const started = Date.now();
        const poll = () => {
          if (this._disposed || !this._stopping) return;
          if (Date.now() - started >= STOP_WAIT_MS) return this._endStop();
          void this._settle(false).then(() => {
            if (this.runningCount === 0) this._stopping = false;
            else this._stopTimer = setTimeout(poll, 500) as unknown as number;
          });
        };
        poll();
      }
    } else if (this._stopping && (status === "idle" || status === "busy" || status === "starting")) this._endStop();
    this._kernelStatusChanged.emit(status);
  }

  /** The stopped kernel's process has exited (or was given up on): what its records say now is final. */
  private _endStop(): void {
    this._stopping = false;
    clearTimeout(this._stopTimer);
    void this._settle(true);
  }

  private _onKernelChanged(_: unknown, change: { oldValue: unknown; newValue: unknown }): void {
    if (change.oldValue && change.oldValue !== change.newValue) void this._settle(true);
    if (change.newValue) void this.findRunning();
    this._kernelStatusChanged.emit(this._session.kernelDisplayStatus);
  }

  /**
   * Read the records of the runs this kernel was running. `final`: the kernel's process is gone,
   * so a record still `running` shows `died`; otherwise only an end the record states is taken.
   */
  private async _settle(final: boolean, only?: string[], attempt = 0): Promise<void> {
    const running = [...this._runs.values()].filter((r) => (only ? only.includes(r.id) && r.payload.status === "died" : r.payload.status === "running"));
    if (!running.length) return;
    const inferred: string[] = [];
    if (final) for (const r of running) this._options.registry.markDead(r.id);
    const store = this._options.store(this._root);
    await Promise.all(
      running.map(async (r) => {
        const p = r.payload;
        const rec = store ? await store.run(p.experiment, p.number, this._liveness) : undefined;
        if (this._disposed) return;
        const record = rec && "record" in rec && rec.id === p.id ? rec.record : undefined;
        let next: RunPayload | undefined;
        if (record && record.status !== "running") {
          next = { ...p, status: record.status };
          if (record.endTime !== undefined) next.endTime = record.endTime;
          if (record.error) next.error = { message: record.error.message, ...(record.error.stack ? { stack: record.error.stack } : {}) };
        } else if (final && p.status === "running") {
          // No readable record, or one the dead process left `running`: the died rule.
          next = { ...p, status: "died", endTime: record?.heartbeat ?? p.heartbeat ?? p.sentAt };
        }
        if (final && (!record || record.status === "running")) inferred.push(r.id);
        if (next) this._take(next, record ? "disk" : r.source);
      }),
    );
    // A process stopped by a restart may still be writing its record when the kernel is seen
    // gone: read again for a while, so a written `interrupted` replaces the inferred `died`.
    if (inferred.length && attempt < RECHECKS && !this._disposed) setTimeout(() => void this._settle(true, inferred, attempt + 1), 1000);
  }

  /** Re-read, every few seconds, the running runs the kernel has not spoken of since the page loaded. */
  private _startPolling(): void {
    if (this._pollTimer) return;
    this._pollTimer = setInterval(() => {
      const quiet = [...this._runs.values()].filter((r) => r.payload.status === "running" && r.source === "disk" && Date.now() - r.lastSeen >= DISK_POLL_MS);
      const store = this._options.store(this._root);
      if (!store) return;
      for (const r of quiet) {
        void store.run(r.payload.experiment, r.payload.number, this._liveness).then((rec) => {
          if (rec && "record" in rec && !this._disposed) void this._takeRecord(store, rec);
        });
      }
    }, DISK_POLL_MS) as unknown as number;
  }

  private _session: SessionLike;
  private _options: LiveRunsOptions;
  private _liveness: Liveness;
  private _runs = new Map<string, LiveRun>();
  private _sorted: LiveRun[] | undefined;
  private _root: string | undefined;
  private _otherSeen = false;
  private _disposed = false;
  private _stopping = false;
  private _stopTimer = 0;
  private _pollTimer = 0;
  private _changed = new Signal<this, LiveRun | undefined>(this);
  private _kernelStatusChanged = new Signal<this, string>(this);
}
