import { rewrapOutput } from "../capture/output";
import type { Experiment } from "../experiment/experiment";
import { runHooks } from "../run/hooks";
import { openRuns } from "../run/registry";
import type { Run } from "../run/run";
import type { CellRecord } from "../run/types";
import { sha256 } from "../store/store";
import { getBridge, type CellInfo, type KernelBridge } from "./bridge";
import { CardObserver } from "./live";
import { warn } from "../util/warn";

const KEY = Symbol.for("labnote.notebook");

interface NotebookState {
  bridge: KernelBridge;
  /** Cell-scoped runs by the cell that started them. */
  cellRuns: Map<CellInfo, Set<Run<unknown>>>;
  /** Callback runs (exp.run) by the cell that started them: interrupting the cell interrupts them. */
  callbackRuns: Map<CellInfo, Set<Run<unknown>>>;
  /** Spanning runs, to end when the next one of the same experiment starts. */
  spanRuns: Set<Run<unknown>>;
  /** Each open run's record of the cell executing now. */
  cellRecords: Map<Run<unknown>, Map<CellInfo, CellRecord>>;
  /** The newest run for (experiment, name, cell source): re-running that cell links to it. */
  lastRun: Map<string, string>;
}

function rerunKey(experiment: string, name: string, source: string): string {
  return `${experiment}\u0000${name}\u0000${sha256(source)}`;
}

function recordCell(state: NotebookState, run: Run<unknown>, cell: CellInfo): void {
  let m = state.cellRecords.get(run);
  if (!m) state.cellRecords.set(run, (m = new Map()));
  if (m.has(cell)) return;
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
  const state: NotebookState = { bridge, cellRuns: new Map(), callbackRuns: new Map(), spanRuns: new Set(), cellRecords: new Map(), lastRun: new Map() };
  g[KEY] = state;
  const hooks = runHooks();

  hooks.context = (exp: Experiment<object>, info) => {
    const cell = bridge.currentCell();
    if (!cell) return undefined;
    return { rerunOf: state.lastRun.get(rerunKey(exp.name, info.name, cell.source)), notebook: cell.notebookPath };
  };

  hooks.started = (exp: Experiment<object>, run: Run<unknown>, info) => {
    if (info.widgets) run.addObserver(new CardObserver(bridge));
    const cell = bridge.currentCell();
    if (cell) {
      recordCell(state, run, cell);
      state.lastRun.set(rerunKey(exp.name, run.name, cell.source), run.id);
    }
    run.addObserver({ ended: () => forget(state, run) });
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
        if (other.experiment === run.experiment && other !== run && !other.ended) {
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
      if (run.ended) state.cellRecords.delete(run);
    }
    const scoped = new Set(state.cellRuns.get(cell) ?? []);
    state.cellRuns.delete(cell);
    if (outcome.interrupted) for (const r of state.callbackRuns.get(cell) ?? []) scoped.add(r);
    state.callbackRuns.delete(cell);
    if (scoped.size === 0) return;
    await Promise.all(
      [...scoped]
        .filter((r) => !r.ended)
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
    for (const run of [...openRuns]) {
      try {
        run.endSync(busy ? { status: "interrupted", error: new Error("the kernel was shut down or restarted while the cell ran"), endedBy: "shutdown" } : { status: "completed", endedBy: "shutdown" });
      } catch {
        /* shutting down anyway */
      }
    }
  });
  return true;
}

function forget(state: NotebookState, run: Run<unknown>): void {
  state.spanRuns.delete(run);
}
