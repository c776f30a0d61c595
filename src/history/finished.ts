import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, RUN_FILES, blobPath, storeError, type ArtifactRecord, type Histogram, type MetricColumns, type MetricPoints, type RunRecord } from "../protocol";
import { findArtifact } from "./artifacts";
import { readBlobText } from "./code";
import { readHistograms, readMetricColumns, readMetricPoints } from "./metrics";
import { inside } from "./paths";

/** Turns an artifact's bytes back into the value that was saved (the experiment's savers). */
export type ArtifactDecoder = (rec: ArtifactRecord, data: Buffer) => Promise<unknown>;

function readJsonMaybe<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** A run folder's env.json (host, git, dependencies); `{}` when it has none. */
export function readRunEnv(dir: string): Record<string, unknown> {
  return readJsonMaybe<Record<string, unknown>>(path.join(dir, RUN_FILES.env)) ?? {};
}

/**
 * A run read back from disk, read-only: its record, metrics, artifacts, output and sources.
 * @example
 * const again = await exp.getRun("mnist/3");
 * again.metric("loss").values; await again.load("model");
 */
export class FinishedRun<C = Record<string, unknown>> {
  readonly record: RunRecord;
  readonly dir: string;

  private constructor(record: RunRecord, dir: string, root: string, decode: ArtifactDecoder, view: (config: unknown) => unknown) {
    this.record = record;
    this.dir = dir;
    this.root = root;
    this.decode = decode;
    this.view = view;
  }

  /** @internal Reopen a run from its record; `view` makes the read-only config. */
  static open<C>(record: RunRecord, dir: string, root: string, decode: ArtifactDecoder, view: (config: unknown) => unknown): FinishedRun<C> {
    return new FinishedRun<C>(record, dir, root, decode, view);
  }

  get id(): string {
    return this.record.id;
  }
  get number(): number {
    return this.record.number;
  }
  get name(): string {
    return this.record.name;
  }
  get status(): RunRecord["status"] {
    return this.record.status;
  }
  /** The run's final config, read-only. */
  get config(): C {
    return this.view(this.record.config) as C;
  }

  /** All points of a metric, from its column (or an older run's metrics.csv); a torn last record is left out. */
  metric(name: string): MetricPoints {
    const points = this.readMetrics(name).get(name);
    if (!points) throw this.noMetric(name);
    return points;
  }

  private noMetric(name: string): LabnoteError {
    const known = Object.keys(this.record.metrics ?? {});
    return new LabnoteError("NOT_FOUND", `No metric "${name}" in run ${this.id}`, known.length ? `it has ${known.map((m) => `"${m}"`).join(", ")}` : "nothing was logged");
  }

  /**
   * A metric's points as three float64 columns (steps, values, times), read with no conversion:
   * the fast way to hold a long run's points, and what arquero and Arrow take as they are.
   * @example const { steps, values } = again.columns("loss")
   */
  columns(name: string): MetricColumns {
    const points = readMetricColumns(this.dir, this.id, name).get(name);
    if (!points) throw this.noMetric(name);
    return points;
  }

  /** Every metric's points. */
  metrics(): Map<string, MetricPoints> {
    return this.readMetrics();
  }

  /** Histograms logged under a name, in step order. */
  histograms(name: string): Histogram[] {
    return readHistograms(this.dir, name);
  }

  /** Load an artifact by name (newest version) or exact stored name. */
  async load(name: string, options: { version?: number } = {}): Promise<unknown> {
    const rec = findArtifact(this.id, this.record.artifacts, name, options.version);
    const file = inside(this.dir, rec.file);
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      throw storeError("read", file, e);
    }
    return this.decode(rec, data);
  }

  /** What the run printed (stdout, and stderr lines marked `[stderr]`). */
  output(): string {
    try {
      return fs.readFileSync(path.join(this.dir, RUN_FILES.output), "utf8");
    } catch {
      return "";
    }
  }

  /** Host, git and dependency information captured at the start. */
  env(): Record<string, unknown> {
    return readRunEnv(this.dir);
  }

  /** The project's source files as they were when the run started. */
  sources(): { path: string; sha256: string; size: number; text(): string }[] {
    const s = readJsonMaybe<{ files: { path: string; sha256: string; size: number }[] }>(path.join(this.dir, RUN_FILES.sources));
    return (s?.files ?? []).map((f) => ({ ...f, text: () => fs.readFileSync(path.join(this.root, blobPath(f.sha256)), "utf8") }));
  }

  /** The notebook cells executed while the run was open, with their source text. */
  cells(): (RunRecord["cells"][number] & { source: string })[] {
    // A missing blob keeps the cell's record, with an empty source.
    return this.record.cells.map((c) => ({ ...c, source: readBlobText(this.root, c.sha256) ?? "" }));
  }

  /** A finished run cannot change. */
  log(): never {
    throw this.readOnly("log");
  }
  save(): never {
    throw this.readOnly("save");
  }
  end(): never {
    throw this.readOnly("end");
  }

  private readOnly(what: string): LabnoteError {
    return new LabnoteError("READ_ONLY", `Cannot ${what} on run ${this.id}`, "a run reopened from history is read-only; start a new run with exp.start()");
  }

  private readMetrics(only?: string): Map<string, MetricPoints> {
    return readMetricPoints(this.dir, this.id, only);
  }

  private readonly root: string;
  private readonly decode: ArtifactDecoder;
  private readonly view: (config: unknown) => unknown;
}
