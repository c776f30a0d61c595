import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, describe } from "../protocol";
import { experiment } from "../compose";
import { startRunSync, type Experiment } from "../core/experiment";
import { runState, type Run } from "../core/run";
import { readHistory } from "../history/read";

/** One version of an experiment, as the experiment_manager API returns it. */
export interface ExperimentManagerRecord {
  experimentId: string;
  version: number;
  createdAt: string;
  configName: string;
  hyperparameters: Record<string, unknown>;
  metadata: Record<string, unknown>;
  metrics: Record<string, number[]>;
  checkpoints: string[];
}

const DEFAULT_METADATA = ["precision", "model_size", "dataset_version", "hardware_constraint_mode"] as const;

/**
 * The experiment_manager API as a thin layer over labnote: each `startExperiment` is a run
 * of the experiment `experimentId`, its `version` the run number. Everything is written to
 * disk after every call.
 * @example
 * const m = new ExperimentManager({ logDir: "experiments/logs" });
 * const rec = await m.startExperiment({ configName: "mnist_baseline", hyperparameters: { lr: 0.01 }, metadata: {} });
 * await m.logMetrics({ loss: [0.9, 0.5] });
 * await m.addCheckpoint("ckpt/epoch1.bin");
 * const versions = await m.readHistory(rec.experimentId);
 */
export class ExperimentManager {
  readonly logDir: string;

  constructor(options: { logDir?: string } = {}) {
    this.logDir = options.logDir ?? "experiments/logs";
  }

  /** The record of the experiment version in progress, if any. */
  get activeRecord(): ExperimentManagerRecord | undefined {
    return this.active ? this.toRecord(this.active.run) : undefined;
  }

  /** Start a new version of an experiment (ending the one in progress). */
  async startExperiment(options: { configName: string; hyperparameters?: Record<string, unknown>; metadata?: Record<string, unknown>; experimentId?: string }): Promise<ExperimentManagerRecord> {
    if (!options || typeof options.configName !== "string" || !options.configName)
      throw new LabnoteError("INVALID_OPTION", "Cannot start experiment", `configName must be a non-empty string, got ${describe(options?.configName)}`);
    if (this.active) await this.end();
    const id = options.experimentId ?? options.configName.replace(/[/.]/g, "_");
    const metadata: Record<string, unknown> = { ...(options.metadata ?? {}) };
    for (const k of DEFAULT_METADATA) if (!(k in metadata)) metadata[k] = "unknown";
    const exp: Experiment = await experiment(id, { root: this.logDir, config: options.hyperparameters ?? {}, capture: { sources: false, output: false } });
    const run = startRunSync(exp, { name: options.configName, span: true, metadata: { configName: options.configName, metadata, metrics: {}, checkpoints: [] } });
    this.active = { exp, run };
    runState(run).flush(Date.now(), true);
    return this.toRecord(run);
  }

  /** Record metric lists for the active version (replacing earlier lists of the same names). */
  async logMetrics(metrics: Record<string, number[] | number>): Promise<void> {
    const run = this.requireActive("logMetrics");
    if (typeof metrics !== "object" || metrics === null) throw new LabnoteError("INVALID_VALUE", "Cannot log metrics", "expected an object of lists, e.g. { loss: [0.9, 0.5] }");
    const stored = { ...(run.record().metadata.metrics as Record<string, number[]>) };
    for (const [name, v] of Object.entries(metrics)) {
      const list = typeof v === "number" ? [...(stored[name] ?? []), v] : Array.from(v);
      for (const x of list) if (typeof x !== "number") throw new LabnoteError("INVALID_VALUE", `Cannot log metric "${name}"`, `expected numbers, got ${describe(x)}`);
      const logged = runState(run).metrics.series.get(name)?.count ?? 0;
      for (let i = logged; i < list.length; i++) run.log(name, list[i], i);
      stored[name] = list;
    }
    run.setMetadata({ metrics: stored });
    runState(run).flush(Date.now(), true);
  }

  /** Record a checkpoint of the active version (the file is copied into the run when it exists). */
  async addCheckpoint(checkpointPath: string): Promise<void> {
    const run = this.requireActive("addCheckpoint");
    if (typeof checkpointPath !== "string" || !checkpointPath) throw new LabnoteError("INVALID_VALUE", "Cannot add checkpoint", `expected a path, got ${describe(checkpointPath)}`);
    if (fs.existsSync(checkpointPath)) await run.addCheckpoint(checkpointPath);
    const list = [...(run.record().metadata.checkpoints as string[]), checkpointPath];
    run.setMetadata({ checkpoints: list });
    runState(run).flush(Date.now(), true);
  }

  /** One entry per version of the experiment, oldest first. */
  async readHistory(experimentId: string): Promise<ExperimentManagerRecord[]> {
    return readHistory(path.resolve(this.logDir), experimentId).map((r) => ({
      experimentId: r.experiment,
      version: r.number,
      createdAt: new Date(r.startTime).toISOString(),
      configName: String(r.metadata?.configName ?? r.name),
      hyperparameters: r.config,
      metadata: (r.metadata?.metadata as Record<string, unknown>) ?? {},
      metrics: (r.metadata?.metrics as Record<string, number[]>) ?? {},
      checkpoints: (r.metadata?.checkpoints as string[]) ?? [],
    }));
  }

  /** End the version in progress (completed). */
  async end(): Promise<void> {
    const a = this.active;
    this.active = undefined;
    if (a) await a.run.end();
  }

  private toRecord(run: Run): ExperimentManagerRecord {
    const r = run.record();
    return {
      experimentId: r.experiment,
      version: r.number,
      createdAt: new Date(r.startTime).toISOString(),
      configName: String(r.metadata.configName),
      hyperparameters: r.config,
      metadata: r.metadata.metadata as Record<string, unknown>,
      metrics: r.metadata.metrics as Record<string, number[]>,
      checkpoints: r.metadata.checkpoints as string[],
    };
  }

  private requireActive(what: string): Run {
    if (!this.active) throw new LabnoteError("NO_ACTIVE_EXPERIMENT", `Cannot ${what}`, "no experiment is active; call startExperiment({ configName, hyperparameters, metadata }) first");
    return this.active.run;
  }

  private active: { exp: Experiment; run: Run } | undefined;
}
