/**
 * The composition root: opens experiments on the default store (plain files under the root),
 * whose runs write themselves through the file sink. Hosts add their own sinks on top (the
 * notebook kernel adds cards and progress bars).
 */
import * as path from "node:path";
import { Experiment, type ExperimentOptions } from "./core/experiment";
import { hostHooks } from "./core/hooks";
import type { ConfigObject } from "./core/config/resolve";
import { defaultRoot } from "./history/paths";
import { FileStore } from "./sinks/file/store";
import { TensorBoardSink, type TensorBoardOptions } from "./sinks/tensorboard/sink";
import { MlflowSink, type MlflowOptions } from "./sinks/mlflow/sink";
import { LabnoteError, describe } from "./protocol";

/** The experiment's options, and the sinks the default wiring adds on request. */
export interface LabnoteOptions<C extends object = ConfigObject> extends ExperimentOptions<C> {
  /**
   * Write every run as TensorBoard event files as it goes: `true` puts them in each run's folder
   * (`<run>/tensorboard/`), `{ dir }` in one folder with a subfolder per run.
   */
  tensorboard?: boolean | TensorBoardOptions;
  /**
   * Stream every run into an MLflow tracking server as it goes: `true` uses `MLFLOW_TRACKING_URI`,
   * `{ trackingUri, experimentName }` names them. Credentials come from `MLFLOW_TRACKING_TOKEN` or
   * `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` and are never written anywhere.
   */
  mlflow?: boolean | MlflowOptions;
}

/** The options with the requested sinks added to `sinks`. */
function withSinks<C extends object>(options: LabnoteOptions<C>): ExperimentOptions<C> {
  if (options === null || typeof options !== "object") return options;
  const { tensorboard, mlflow, ...rest } = options;
  const sinks = [...(rest.sinks ?? [])];
  if (tensorboard !== undefined && tensorboard !== false) {
    if (tensorboard !== true && (typeof tensorboard !== "object" || tensorboard === null || (tensorboard.dir !== undefined && typeof tensorboard.dir !== "string")))
      throw new LabnoteError("INVALID_OPTION", "Invalid option tensorboard", `expected true or { dir: "folder" }, got ${describe(tensorboard)}`);
    sinks.push(new TensorBoardSink(tensorboard === true ? {} : tensorboard));
  }
  if (mlflow !== undefined && mlflow !== false) sinks.push(new MlflowSink(mlflow === true ? {} : mlflow));
  return sinks.length === (rest.sinks ?? []).length ? rest : { ...rest, sinks };
}

/**
 * Open (or create) an experiment under the store root.
 * @example
 * const exp = await experiment("mnist", { config: { lr: 0.01, epochs: 10 }, named: { fast: { epochs: 1 } } });
 */
export async function experiment<C extends object = ConfigObject>(name: string, options: LabnoteOptions<C> = {}): Promise<Experiment<C>> {
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
export function openExperiment<C extends object = ConfigObject>(name: string, labnoteOptions: LabnoteOptions<C> = {}): Experiment<C> {
  const options = withSinks(labnoteOptions);
  const ghost = options !== null && typeof options === "object" && options.ghost === true;
  const root = path.resolve((options as ExperimentOptions<C> | null)?.root ?? defaultRoot());
  return Experiment.open<C>(name, options, ghost ? undefined : new FileStore(root));
}
