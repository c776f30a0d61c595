/**
 * The composition root: opens experiments on the default store (plain files under the root),
 * whose runs write themselves through the file sink. Hosts add their own sinks on top (the
 * notebook kernel adds cards and progress bars).
 */
import * as path from "node:path";
import { Experiment, type ExperimentOptions } from "./core/experiment";
import { hostHooks } from "./core/hooks";
import { LabnoteError } from "./protocol";
import type { ConfigObject } from "./core/config/resolve";
import { defaultRoot } from "./history/paths";
import { FileStore } from "./sinks/file/store";

/**
 * Open (or create) an experiment under the store root.
 * @example
 * const exp = await experiment("mnist", { config: { lr: 0.01, epochs: 10 }, named: { fast: { epochs: 1 } } });
 */
export async function experiment<C extends object = ConfigObject>(name: string, options: ExperimentOptions<C> = {}): Promise<Experiment<C>> {
  return openExperiment(name, options);
}

/**
 * In a notebook: store a snapshot of the saved notebook file in the history under `root`
 * (default: `LABNOTE_DIR`, else `experiments`) and link this kernel session's runs there to it;
 * the same as `exp.exportNotebook()` without an experiment at hand (the panel's Export notebook
 * button calls it).
 * @example
 * const { snapshot, runs } = await exportNotebook();
 */
export async function exportNotebook(options: { root?: string; path?: string } = {}): Promise<{ snapshot: string; runs: string[] }> {
  const hook = hostHooks().exportNotebook;
  if (!hook) throw new LabnoteError("UNSUPPORTED", "Cannot export the notebook", "exportNotebook() works in a tslab notebook cell, where the kernel knows the notebook");
  return hook({ name: "", root: path.resolve(options?.root ?? defaultRoot()) }, { path: options?.path });
}

/** {@link experiment} without awaiting, for synchronous APIs layered on labnote. */
export function openExperiment<C extends object = ConfigObject>(name: string, options: ExperimentOptions<C> = {}): Experiment<C> {
  const ghost = options !== null && typeof options === "object" && options.ghost === true;
  const root = path.resolve((options as ExperimentOptions<C> | null)?.root ?? defaultRoot());
  return Experiment.open<C>(name, options, ghost ? undefined : new FileStore(root));
}
