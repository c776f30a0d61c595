/**
 * The session log of a tslab kernel: every cell the kernel executes, kept in memory from the
 * moment the log starts (the kernel's first cell when `labnote install` registered the kernel
 * with its preload, else the cell that first imported labnote), and written under a store root
 * once a run with lineage capture starts there (`<root>/_labnote/sessions/<id>.jsonl`, sources as
 * blobs). Nothing is written for a session that never starts such a run.
 *
 * The log lives on globalThis, so the preload's copy of labnote and the notebook's copy share it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { blobPath, isIgnoredCell, sessionLogPath, type SessionEntry, type SessionHeader } from "../protocol";
import { runState, type Run } from "../core/run";
import type { RunState } from "../core/run-state";
import { sha256 } from "../core/util/hash";
import { warn } from "../core/util/warn";
import { appendSync, ensureDir, writeAtomic } from "../sinks/file/atomic";
import type { CellInfo, KernelBridge } from "./bridge";

const KEY = Symbol.for("labnote.sessionLog.v1");

/** One executed cell as the session keeps it in memory. */
interface SessionCell {
  readonly cell: CellInfo;
  readonly i: number;
  readonly source: string;
  readonly sha256: string;
  endTime?: number;
  ok?: boolean;
  error?: string;
}

/** A root the log is written under: how many entries it holds so far. */
interface RootLog {
  readonly file: string;
  written: number;
  failed: boolean;
}

/** The kernel session's log. */
export interface SessionLog {
  readonly id: string;
  readonly startTime: number;
  readonly from: "kernel" | "import";
  /** Cells recorded so far, the one running included. */
  readonly length: number;
  /** Write the log under `root` from now on (its whole past first); idempotent. */
  attach(root: string): void;
  /** Keep `run`'s lineage current until it ends; remember it as a run of this session. */
  track(run: Run<unknown>, root: string, lineage: boolean): void;
  /** Ids of this session's runs under `root`, in the order they started. */
  runsUnder(root: string): string[];
  /** The notebook path the kernel reported, if any. */
  notebook(): string | undefined;
}

class Log implements SessionLog {
  readonly id: string;
  readonly startTime = Date.now();
  readonly from: "kernel" | "import";
  private readonly cells: SessionCell[] = [];
  private readonly byInfo = new Map<CellInfo, SessionCell>();
  private readonly roots = new Map<string, RootLog>();
  private readonly open = new Set<RunState>();
  private readonly runs: Array<{ id: string; root: string }> = [];
  private notebookPath: string | undefined;

  constructor(bridge: KernelBridge, from: "kernel" | "import") {
    this.from = from;
    const stamp = new Date(this.startTime).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    this.id = `${stamp}-${process.pid}-${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, "0")}`;
    bridge.onCellStart((cell) => this.started(cell));
    bridge.onCellEnd((cell, outcome) => this.ended(cell, outcome));
    // Imported from a cell: that cell is already running, and is the log's first.
    const current = bridge.currentCell();
    if (current) this.started(current);
  }

  get length(): number {
    return this.cells.length;
  }

  notebook(): string | undefined {
    return this.notebookPath;
  }

  private started(cell: CellInfo): void {
    if (this.byInfo.has(cell) || isIgnoredCell(cell.source)) return;
    const rec: SessionCell = { cell, i: this.cells.length, source: cell.source, sha256: sha256(cell.source) };
    this.cells.push(rec);
    this.byInfo.set(cell, rec);
    if (cell.notebookPath) this.notebookPath = cell.notebookPath;
    for (const run of [...this.open]) {
      if (run.status !== "running") {
        this.open.delete(run);
        continue;
      }
      run.lineage = { session: this.id, to: this.cells.length };
      run.beat();
    }
  }

  private ended(cell: CellInfo, outcome: { ok: boolean; endTime: number; error?: { message: string } }): void {
    const rec = this.byInfo.get(cell);
    if (!rec) return;
    this.byInfo.delete(cell);
    rec.endTime = outcome.endTime;
    rec.ok = outcome.ok;
    if (outcome.error) rec.error = outcome.error.message;
    for (const root of this.roots.keys()) this.flush(root);
  }

  attach(root: string): void {
    if (this.roots.has(root)) return;
    const file = path.join(root, sessionLogPath(this.id));
    const log: RootLog = { file, written: 0, failed: false };
    this.roots.set(root, log);
    const header: SessionHeader = { format: 1, session: this.id, pid: process.pid, hostname: os.hostname(), startTime: this.startTime, from: this.from };
    const nb = this.notebookPath ?? this.cells.find((c) => c.cell.notebookPath)?.cell.notebookPath;
    if (nb) header.notebook = nb;
    try {
      ensureDir(path.dirname(file));
      writeAtomic(file, JSON.stringify(header) + "\n");
    } catch (e) {
      this.fail(log, e);
      return;
    }
    this.flush(root);
  }

  /** Append the entries of `root` that ended since its last write, in order. */
  private flush(root: string): void {
    const log = this.roots.get(root);
    if (!log || log.failed) return;
    let text = "";
    let n = log.written;
    try {
      for (; n < this.cells.length; n++) {
        const c = this.cells[n];
        if (c.endTime === undefined) break;
        putBlob(root, c.sha256, c.source);
        const entry: SessionEntry = { i: c.i, executionCount: c.cell.executionCount, sha256: c.sha256, startTime: c.cell.startTime, endTime: c.endTime, ok: c.ok !== false };
        if (c.error !== undefined) entry.error = c.error;
        if (c.cell.notebookPath) entry.notebook = c.cell.notebookPath;
        text += JSON.stringify(entry) + "\n";
      }
      if (text) appendSync(log.file, text);
      log.written = n;
    } catch (e) {
      this.fail(log, e);
    }
  }

  private fail(log: RootLog, e: unknown): void {
    log.failed = true;
    warn(`labnote: cannot write the session log ${log.file}: ${e instanceof Error ? e.message : String(e)}; runs keep their own cells`);
  }

  track(run: Run<unknown>, root: string, lineage: boolean): void {
    this.runs.push({ id: run.id, root });
    if (!lineage) return;
    this.attach(root);
    const state = runState(run);
    state.lineage = { session: this.id, to: this.cells.length };
    this.open.add(state);
    state.addSink({ ended: () => this.open.delete(state) });
  }

  runsUnder(root: string): string[] {
    return this.runs.filter((r) => r.root === root).map((r) => r.id);
  }
}

/** Store a cell's source once by its hash. */
function putBlob(root: string, sha: string, source: string): void {
  const file = path.join(root, blobPath(sha));
  if (fs.existsSync(file)) return;
  ensureDir(path.dirname(file));
  writeAtomic(file, source);
}

/**
 * The kernel session's log, started now if it is not yet (`from` says whether it covers the
 * session from its first cell). Idempotent and shared by every loaded copy of labnote.
 */
export function startSessionLog(bridge: KernelBridge, from: "kernel" | "import"): SessionLog {
  const g = globalThis as unknown as Record<symbol, SessionLog | undefined>;
  return (g[KEY] ??= new Log(bridge, from));
}

/** The kernel session's log, if it was started. */
export function sessionLog(): SessionLog | undefined {
  return (globalThis as unknown as Record<symbol, SessionLog | undefined>)[KEY];
}
