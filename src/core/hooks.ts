import type { RunComparison, RunRecord } from "../protocol";
import type { Run } from "./run";
import type { SweepDisplay, SweepView } from "./sweep/view";

/**
 * Hooks that a host (the notebook kernel) installs to shape runs: a context when a run is made
 * (re-run links, notebook path), a call once it started (cards, cell scope), and a way to show a
 * table in the cell output. Kept on globalThis so two loaded copies of labnote share one set.
 */
export interface HostHooks {
  context?(exp: { readonly name: string }, info: { name: string; span: boolean }): { rerunOf?: string; notebook?: string } | undefined;
  started?(exp: ExperimentInfo, run: Run<unknown>, info: { span: boolean; callback: boolean; widgets: boolean }): void;
  /** Snapshot the notebook this kernel runs into the history under `exp.root` (see `Experiment.exportNotebook`). */
  exportNotebook?(exp: ExperimentInfo, options: { path?: string }): { snapshot: string; runs: string[] };
  /** Show the runs of an experiment in the cell output; false when there is no cell to show them in. */
  showTable?(experiment: string, records: readonly RunRecord[]): boolean;
  /** Show a comparison of runs in the cell output; false when there is no cell to show it in. */
  showComparison?(comparison: RunComparison): boolean;
  /** Show a sweep's card in the cell output, updated as the sweep goes; undefined when there is no cell. */
  showSweep?(sweep: SweepView): SweepDisplay | undefined;
  /** The cell executing now (any object that stays the same for one execution), if any. */
  currentCell?(): object | undefined;
  /** True once `cell` (from {@link currentCell}) was interrupted: its async code may still run on. */
  interrupted?(cell: object): boolean;
}

/** What a host is told of the experiment a run belongs to. */
export interface ExperimentInfo {
  readonly name: string;
  /** The store root, undefined for a ghost experiment. */
  readonly root?: string;
  /** False when the experiment's `capture.lineage` is off. */
  readonly lineage?: boolean;
}

const KEY = Symbol.for("labnote.runHooks");

/** The process's host hooks (shared by every loaded copy of labnote). */
export function hostHooks(): HostHooks {
  const g = globalThis as unknown as Record<symbol, HostHooks | undefined>;
  return (g[KEY] ??= {});
}
