/**
 * The cell-scope policy of the notebook kernel: which cell ends which run, re-run links, the
 * cells recorded with each run, and the notebook sink (cards, progress bars, tables) wired to
 * the kernel's display through the tslab bridge.
 */
import { isIgnoredCell, type CellRecord } from "../protocol";
import { rewrapOutput } from "../core/capture/output";
import { hostHooks } from "../core/hooks";
import { openRuns } from "../core/registry";
import { runState, type Run } from "../core/run";
import type { RunState } from "../core/run-state";
import { sha256 } from "../core/util/hash";
import { warn } from "../core/util/warn";
import { CardSink } from "../sinks/notebook/card-sink";
import { ProgressSink } from "../sinks/notebook/progress";
import { displayComparison } from "../sinks/notebook/compare";
import { displayTable } from "../sinks/notebook/table";
import { SweepCard } from "../sinks/notebook/sweep-card";
import { getBridge, type CellInfo, type KernelBridge } from "./bridge";
import { startSessionLog } from "./session";
import { exportNotebookSnapshot } from "./snapshot";

const KEY = Symbol.for("labnote.notebook");

interface NotebookState {
  bridge: KernelBridge;
  /** Cell-scoped runs by the cell that started them. */
  cellRuns: Map<CellInfo, Set<RunState>>;
  /** Callback runs (exp.run) by the cell that started them: interrupting the cell interrupts them. */
  callbackRuns: Map<CellInfo, Set<RunState>>;
  /** Spanning runs, to end when the next one of the same experiment starts. */
  spanRuns: Set<RunState>;
  /** Each open run's record of the cell executing now. */
  cellRecords: Map<RunState, Map<CellInfo, CellRecord>>;
  /** The newest run for (experiment, name, cell source): re-running that cell links to it. */
  lastRun: Map<string, string>;
}

function rerunKey(experiment: string, name: string, source: string): string {
  return `${experiment}\u0000${name}\u0000${sha256(source)}`;
}

function recordCell(state: NotebookState, run: RunState, cell: CellInfo): void {
  let m = state.cellRecords.get(run);
  if (!m) state.cellRecords.set(run, (m = new Map()));
  if (m.has(cell) || isIgnoredCell(cell.source)) return;
  const rec = run.addCell({ executionCount: cell.executionCount, startTime: cell.startTime, ...(cell.notebookPath ? { notebook: cell.notebookPath } : {}) }, cell.source);
  m.set(cell, rec);
}

/**
 * In a tslab kernel: cards in the cell output for every run, runs scoped to the cell that
 * started them (unless `span: true`), spanning runs ended by the next one, re-runs linked,
 * and every executed cell recorded with the open runs. Outside a kernel this does nothing.
 */
export function installNotebook(): boolean {
  const g = globalThis as unknown as Record<symbol, NotebookState | undefined>;
  if (g[KEY]) return true;
  const bridge = getBridge();
  if (!bridge) return false;
  // Before the cell callbacks below: a cell is in the log before the runs it ends read their lineage.
  const session = startSessionLog(bridge, "import");
  const state: NotebookState = { bridge, cellRuns: new Map(), callbackRuns: new Map(), spanRuns: new Set(), cellRecords: new Map(), lastRun: new Map() };
  g[KEY] = state;
  const hooks = hostHooks();

  hooks.showTable = (experiment, records) => {
    displayTable(bridge, experiment, records);
    return true;
  };

  hooks.showComparison = (comparison) => {
    displayComparison(bridge, comparison);
    return true;
  };

  hooks.showSweep = (sweep) => (bridge.currentCell() ? new SweepCard(bridge, sweep) : undefined);

  hooks.currentCell = () => bridge.currentCell();
  const interrupted = new WeakSet<object>();
  hooks.interrupted = (cell) => interrupted.has(cell);

  hooks.exportNotebook = (exp, options) => exportNotebookSnapshot(session, exp, options);

  hooks.context = (exp, info) => {
    const cell = bridge.currentCell();
    if (!cell) return undefined;
    return { rerunOf: state.lastRun.get(rerunKey(exp.name, info.name, cell.source)), notebook: cell.notebookPath };
  };

  hooks.started = (exp, publicRun: Run<unknown>, info) => {
    const run = runState(publicRun);
    if (exp.root !== undefined) session.track(publicRun, exp.root, exp.lineage !== false);
    if (info.widgets) run.addSink(new CardSink(bridge));
    run.addSink(new ProgressSink(bridge));
    const cell = bridge.currentCell();
    if (cell) {
      recordCell(state, run, cell);
      state.lastRun.set(rerunKey(exp.name, run.init.name, cell.source), run.id);
    }
    run.addSink({ ended: () => forget(state, run) });
    if (info.callback) {
      // Ended by its callback; but tslab lets an interrupted cell's async code run on in the
      // background, so an interrupt of its cell ends it (its next call then stops that code).
      if (cell) {
        let set = state.callbackRuns.get(cell);
        if (!set) state.callbackRuns.set(cell, (set = new Set()));
        set.add(run);
      }
    } else if (info.span) {
      for (const other of [...state.spanRuns])
        if (other.init.experiment === run.init.experiment && other !== run && other.status === "running") {
          try {
            other.endSync({ status: "completed", endedBy: "span" });
          } catch (e) {
            warn(`labnote: could not end run ${other.id}: ${(e as Error).message}`);
          }
        }
      state.spanRuns.add(run);
    } else if (cell) {
      let set = state.cellRuns.get(cell);
      if (!set) state.cellRuns.set(cell, (set = new Set()));
      set.add(run);
    }
  };

  bridge.onCellStart((cell) => {
    rewrapOutput();
    for (const run of openRuns) recordCell(state, run, cell);
  });

  bridge.onCellEnd(async (cell, outcome) => {
    // Runs that ended during this cell (run.end(), the next spanning run) get its outcome too.
    for (const [run, cells] of state.cellRecords) {
      const rec = cells.get(cell);
      if (rec) {
        run.updateCell(rec, { executionCount: cell.executionCount || rec.executionCount, endTime: outcome.endTime, ok: outcome.ok, ...(outcome.error ? { error: outcome.error.message } : {}) });
        cells.delete(cell);
      }
      if (run.status !== "running") state.cellRecords.delete(run);
    }
    if (outcome.interrupted) interrupted.add(cell);
    const scoped = new Set(state.cellRuns.get(cell) ?? []);
    state.cellRuns.delete(cell);
    if (outcome.interrupted) for (const r of state.callbackRuns.get(cell) ?? []) scoped.add(r);
    state.callbackRuns.delete(cell);
    if (scoped.size === 0) return;
    await Promise.all(
      [...scoped]
        .filter((r) => r.status === "running")
        .map((r) =>
          r
            .end(
              outcome.interrupted
                ? { status: "interrupted", error: outcome.error ?? new Error("interrupted"), endedBy: "cell" }
                : outcome.ok
                  ? { status: "completed", endedBy: "cell" }
                  : { status: "failed", error: outcome.error ?? new Error("the cell failed"), endedBy: "cell" },
            )
            .catch((e) => warn(`labnote: could not end run ${r.id}: ${(e as Error).message}`)),
        ),
    );
  });

  bridge.onShutdown(() => {
    // An idle kernel's spanning runs are done; work cut off in a running cell was interrupted.
    const busy = bridge.currentCell() !== undefined;
    const ended = [...openRuns];
    for (const run of ended) {
      try {
        run.endSync(busy ? { status: "interrupted", error: new Error("the kernel was shut down or restarted while the cell ran"), endedBy: "shutdown" } : { status: "completed", endedBy: "shutdown" });
      } catch {
        /* shutting down anyway */
      }
    }
    // The kernel may be stopped soon after: the last points (and metrics.csv) first.
    for (const run of ended) run.drainSync();
  });
  return true;
}

function forget(state: NotebookState, run: RunState): void {
  state.spanRuns.delete(run);
}
