/**
 * What one notebook's kernel has said about its runs in this browser session. Fed from the
 * kernel's IOPub (`display_data` and `update_display_data` carrying labnote's run MIME type),
 * and from the session's status: when the kernel dies or restarts, every run still running is
 * marked `died` at once, without waiting for the kernel to say anything.
 */
import type { ISessionContext } from "@jupyterlab/apputils";
import type { KernelMessage } from "@jupyterlab/services";
import { Signal, type ISignal } from "@lumino/signaling";
import { markDied } from "./died";
import { decode, MIME, type RunPayload, type RunStatus } from "./protocol";

/** A run as the panel knows it. */
export interface LiveRun {
  readonly id: string;
  /** The last payload the kernel sent. */
  payload: RunPayload;
  /** What to show: the payload's status, or `died` when the kernel went away mid-run. */
  status: RunStatus;
  /** Browser time of the first and the last message about this run. */
  firstSeen: number;
  lastSeen: number;
}

/** Kernel states in which a running run cannot go on. */
const FATAL = new Set(["dead", "restarting", "autorestarting", "terminating"]);

/** The runs of one notebook's kernel, newest first. */
export class LiveRuns {
  constructor(sessionContext: ISessionContext) {
    this._session = sessionContext;
    sessionContext.iopubMessage.connect(this._onIopub, this);
    sessionContext.statusChanged.connect(this._onStatus, this);
    sessionContext.kernelChanged.connect(this._onKernelChanged, this);
  }

  /** Emits the run that changed, or undefined when several did. */
  get changed(): ISignal<this, LiveRun | undefined> {
    return this._changed;
  }

  /** Emits when the kernel's status changes. */
  get kernelStatusChanged(): ISignal<this, string> {
    return this._kernelStatusChanged;
  }

  get sessionContext(): ISessionContext {
    return this._session;
  }

  /** Newest first (by start time). */
  get runs(): LiveRun[] {
    if (!this._sorted) this._sorted = [...this._runs.values()].sort((a, b) => b.payload.startTime - a.payload.startTime || b.firstSeen - a.firstSeen);
    return this._sorted;
  }

  get runningCount(): number {
    let n = 0;
    for (const r of this._runs.values()) if (r.status === "running") n++;
    return n;
  }

  get(id: string): LiveRun | undefined {
    return this._runs.get(id);
  }

  /** The store root and the kernel's working directory, from the latest payload. */
  get location(): { root: string; cwd: string } | undefined {
    return this._location;
  }

  /** The kernel's display status as JupyterLab reports it. */
  get kernelStatus(): string {
    return this._session.kernelDisplayStatus;
  }

  /** Whether this kernel has sent anything from labnote. */
  get seen(): boolean {
    return this._runs.size > 0 || this._otherSeen;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
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
    let raw = data[MIME.run];
    if (typeof raw === "string") {
      try {
        raw = JSON.parse(raw);
      } catch {
        return;
      }
    }
    const d = decode(MIME.run, raw);
    if (!d.ok || d.payload.kind !== "run") return;
    this._upsert(d.payload);
  }

  private _upsert(p: RunPayload): void {
    const now = Date.now();
    this._location = { root: p.root, cwd: p.cwd };
    let run = this._runs.get(p.id);
    if (!run) {
      run = { id: p.id, payload: p, status: p.status, firstSeen: now, lastSeen: now };
      this._runs.set(p.id, run);
      this._sorted = undefined;
    } else {
      // An update that arrives after the kernel died describes the past; keep `died`.
      if (run.status === "died" && p.status === "running") return;
      if (p.startTime !== run.payload.startTime) this._sorted = undefined;
      run.payload = p;
      run.status = p.status;
      run.lastSeen = now;
    }
    this._changed.emit(run);
  }

  private _onIopub(_: ISessionContext, msg: KernelMessage.IMessage): void {
    this.handle(msg);
  }

  private _onStatus(_: ISessionContext, status: string): void {
    if (FATAL.has(status)) this._markDied();
    this._kernelStatusChanged.emit(status);
  }

  private _onKernelChanged(_: ISessionContext, change: { oldValue: unknown; newValue: unknown }): void {
    if (change.oldValue && change.oldValue !== change.newValue) this._markDied();
    this._kernelStatusChanged.emit(this._session.kernelDisplayStatus);
  }

  private _markDied(): void {
    const died: string[] = [];
    for (const r of this._runs.values()) {
      if (r.status !== "running") continue;
      r.status = "died";
      died.push(r.id);
    }
    if (!died.length) return;
    markDied(died);
    this._changed.emit(undefined);
  }

  private _session: ISessionContext;
  private _runs = new Map<string, LiveRun>();
  private _sorted: LiveRun[] | undefined;
  private _location: { root: string; cwd: string } | undefined;
  private _otherSeen = false;
  private _disposed = false;
  private _changed = new Signal<this, LiveRun | undefined>(this);
  private _kernelStatusChanged = new Signal<this, string>(this);
}
