import type { Experiment } from "../experiment/experiment";
import type { Run } from "./run";

/**
 * Hooks that an environment (the notebook kernel) installs to shape runs: a context when a
 * run is made (re-run links, notebook path) and a call once it started (widgets, cell scope).
 * Kept on globalThis so two loaded copies of labnote share one set.
 */
export interface RunHooks {
  context?(exp: Experiment<object>, info: { name: string; span: boolean }): { rerunOf?: string; notebook?: string } | undefined;
  started?(exp: Experiment<object>, run: Run<unknown>, info: { span: boolean; callback: boolean; widgets: boolean }): void;
}

const KEY = Symbol.for("labnote.runHooks");

export function runHooks(): RunHooks {
  const g = globalThis as unknown as Record<symbol, RunHooks | undefined>;
  return (g[KEY] ??= {});
}
