/**
 * The composition root: opens experiments on the default store (plain files under the root),
 * whose runs write themselves through the file sink. Hosts add their own sinks on top (the
 * notebook kernel adds cards and progress bars).
 */
import * as path from "node:path";
import { Experiment, type ExperimentOptions } from "./core/experiment";
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

/** {@link experiment} without awaiting, for synchronous APIs layered on labnote. */
export function openExperiment<C extends object = ConfigObject>(name: string, options: ExperimentOptions<C> = {}): Experiment<C> {
  const ghost = options !== null && typeof options === "object" && options.ghost === true;
  const root = path.resolve((options as ExperimentOptions<C> | null)?.root ?? defaultRoot());
  return Experiment.open<C>(name, options, ghost ? undefined : new FileStore(root));
}
