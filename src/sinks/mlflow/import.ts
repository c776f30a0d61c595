/**
 * An MLflow experiment's runs into the store (`labnote import --from mlflow`), as labnote runs
 * written by the store's own writer (the run's storage and its sink: the same files a run
 * writes), so that the panel and the command line show a team's server runs beside local ones.
 *
 * Each run's params become its config (dotted keys nested again; a value that reads as JSON —
 * a number, true/false, null, an array or object — as that value, anything else as its text),
 * every metric point with its step and time (`metrics/get-history`, page after page), its tags,
 * status (FINISHED → completed, FAILED → failed, KILLED → interrupted, RUNNING → running),
 * start and end times. The record's `metadata.mlflow` says where it came from (tracking URI,
 * experiment, MLflow run id, MLflow's status and tags): importing again skips the runs already
 * imported, and a run that labnote itself exported (its `labnote.run_id` tag) and that the
 * store still holds is skipped too.
 */
import { LabnoteError, checkSegment, didYouMean, unflattenConfig, type MetricSummary, type RunRecord, type RunStatus } from "../../protocol";
import { listExperiments, readHistory, readRunRecord } from "../../history/read";
import type { MetricBatch, RunEnvironment, RunView, SeriesView } from "../../core/events";
import { Series } from "../../core/metrics/series";
import type { ExperimentStorage } from "../../core/storage";
import { MlflowClient, MlflowRequestError, type MlflowRun } from "./client";
import { int64, RUN_ID_TAG, unreachable } from "./export";
import { SWEEP_ID_TAG } from "./sweep";

/** Where an imported run came from, as its record's `metadata.mlflow` holds it. */
export interface MlflowOrigin {
  trackingUri: string;
  experimentId: string;
  experimentName: string;
  runId: string;
  /** MLflow's status when it was imported. */
  status: string;
  artifactUri?: string;
  /** Every tag of the run in MLflow. */
  tags: Record<string, string>;
  /** When it was imported (ms). */
  imported: number;
}

/** The origin of an imported record, if it is one. */
export function mlflowOrigin(rec: Pick<RunRecord, "metadata">): MlflowOrigin | undefined {
  const m = (rec.metadata as { mlflow?: unknown })?.mlflow as Partial<MlflowOrigin> | undefined;
  return m && typeof m === "object" && typeof m.runId === "string" && typeof m.trackingUri === "string" ? (m as MlflowOrigin) : undefined;
}

/** labnote's status of a run MLflow ended with `status`. */
export function labnoteStatus(status: string | undefined): RunStatus {
  switch (status) {
    case "FINISHED":
      return "completed";
    case "FAILED":
      return "failed";
    case "KILLED":
      return "interrupted";
    default:
      return "running"; // RUNNING, SCHEDULED
  }
}

/** A param's text as a config value: what reads as JSON (other than a string) as that value, the rest as text. */
export function paramValue(text: string): unknown {
  if (!/^[\s\d\-[{tfn]/.test(text)) return text;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "string" ? text : v;
  } catch {
    return text;
  }
}

/** MLflow's SQL store keeps ±Infinity as ±max double: read back as the infinities logged. */
function metricValue(v: number | string): number {
  const n = typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : Number(v);
  return n === Number.MAX_VALUE ? Infinity : n === -Number.MAX_VALUE ? -Infinity : n;
}

/** What became of one MLflow run. */
export interface ImportedRun {
  /** MLflow's run id and name. */
  runId: string;
  name: string;
  outcome: "imported" | "skipped";
  /** The labnote run it became, or the local run it is. */
  id?: string;
  reason?: string;
  points: number;
}

/** Options of an import. */
export interface MlflowImportOptions {
  /** The labnote experiment the runs go to; default the MLflow experiment's name. */
  into?: string;
  /** Hears the count of each page of points read (a progress bar). */
  onPoints?: (n: number) => void;
  /** Hears how many runs there are to import once they are known. */
  onRuns?: (runs: number) => void;
  /** Hears each run imported. */
  onRun?: (run: ImportedRun) => void;
}

/** Names the MLflow experiment `name`, or says which exist. */
async function experimentOf(client: MlflowClient, name: string): Promise<string> {
  const id = await client.experimentId(name);
  if (id !== undefined) return id;
  const names = (await client.experiments()).map((e) => e.name).sort();
  throw new LabnoteError("NOT_FOUND", `No experiment "${name}" on the MLflow server at ${client.conn.uri}`, didYouMean(name, names, "its experiments"));
}

/** The labnote experiment name for an MLflow one, checked; a name the store cannot take asks for --into. */
function localName(mlflowName: string, into: string | undefined): string {
  try {
    return checkSegment("experiment", into ?? mlflowName);
  } catch (e) {
    if (into !== undefined) throw e;
    const suggestion = mlflowName.replace(/[^\w.-]+/g, "-").replace(/^[-.]+|-+$/g, "") || "imported";
    throw new LabnoteError("INVALID_NAME", `The MLflow experiment "${mlflowName}" cannot be a labnote experiment's name`, `name the labnote experiment to import into with --into, e.g. --into ${suggestion}`);
  }
}

/**
 * Import the runs of MLflow experiment `mlflowName` into the store (`storage`, under `root`),
 * oldest first; runs already imported, and labnote's own exported runs still in the store, are
 * skipped and said so.
 * @example
 * const done = await importFromMlflow(new MlflowClient(connection(uri)), new FileStore(root), "team-mnist", {});
 */
export async function importFromMlflow(client: MlflowClient, storage: ExperimentStorage, mlflowName: string, options: MlflowImportOptions = {}): Promise<{ experiment: string; runs: ImportedRun[] }> {
  const root = storage.root;
  const into = localName(mlflowName, options.into);
  let experimentId: string;
  let runs: MlflowRun[];
  try {
    experimentId = await experimentOf(client, mlflowName);
    runs = await client.allRuns(experimentId);
  } catch (e) {
    if (e instanceof MlflowRequestError) throw unreachable(client.conn.uri, e);
    throw e;
  }
  const local = listExperiments(root).includes(into) ? readHistory(root, into) : [];
  const imported = new Map<string, string>();
  for (const r of local) {
    const o = mlflowOrigin(r);
    if (o) imported.set(o.runId, r.id);
  }
  const out: ImportedRun[] = [];
  const todo: MlflowRun[] = [];
  for (const run of runs) {
    const name = run.info.run_name ?? "";
    const already = imported.get(run.info.run_id);
    if (already !== undefined) {
      out.push({ runId: run.info.run_id, name, outcome: "skipped", id: already, reason: `imported before as ${already}`, points: 0 });
      continue;
    }
    const sweep = run.data?.tags?.find((t) => t.key === SWEEP_ID_TAG)?.value;
    if (sweep !== undefined) {
      out.push({ runId: run.info.run_id, name, outcome: "skipped", reason: `it is the parent run of labnote's sweep ${sweep} (its trials are runs of their own)`, points: 0 });
      continue;
    }
    const own = ownRun(root, run);
    if (own !== undefined) {
      out.push({ runId: run.info.run_id, name, outcome: "skipped", id: own, reason: `it is labnote's own run ${own}, exported to MLflow, and still in this store`, points: 0 });
      continue;
    }
    todo.push(run);
  }
  options.onRuns?.(todo.length);
  if (todo.length > 0) storage.describe(into, { name: into, format: 1, config: {}, named: {}, updated: Date.now() }, true);
  for (const run of todo) {
    try {
      const done = await importRun(client, storage, into, { uri: client.conn.uri, experimentId, experimentName: mlflowName }, run, options);
      out.push(done);
      options.onRun?.(done);
    } catch (e) {
      if (e instanceof MlflowRequestError) throw unreachable(client.conn.uri, e);
      throw e;
    }
  }
  return { experiment: into, runs: out };
}

/** The local run an MLflow run is a copy of (labnote exported it, and the store still has it), if any. */
function ownRun(root: string, run: MlflowRun): string | undefined {
  const id = run.data?.tags?.find((t) => t.key === RUN_ID_TAG)?.value;
  const m = id === undefined ? null : /^(.+)\/([1-9]\d*)$/.exec(id);
  if (!m) return undefined;
  let r: ReturnType<typeof readRunRecord>;
  try {
    r = readRunRecord(root, m[1], Number(m[2]));
  } catch {
    return undefined; // not a name this store can hold
  }
  return r.ok && Math.round(r.record.startTime) === int64(run.info.start_time) ? id : undefined;
}

/** Read one MLflow run whole and write it as a labnote run through the store's writer. */
async function importRun(client: MlflowClient, storage: ExperimentStorage, into: string, where: { uri: string; experimentId: string; experimentName: string }, run: MlflowRun, options: MlflowImportOptions): Promise<ImportedRun> {
  const tags: Record<string, string> = {};
  for (const t of run.data?.tags ?? []) tags[t.key] = t.value;
  const renamedMetric = (key: string) => tags[`labnote.metric_name.${key}`] ?? key;
  const renamedParam = (key: string) => tags[`labnote.param_name.${key}`] ?? key;
  // Every point first: nothing is written for a run whose history cannot be read.
  const series = new Map<string, Series>();
  for (const key of [...new Set((run.data?.metrics ?? []).map((m) => m.key))].sort()) {
    const points = await client.metricHistory(run.info.run_id, key, options.onPoints);
    // MLflow gives no order; labnote's is the order of logging: by time, then step.
    points.sort((a, b) => int64(a.timestamp) - int64(b.timestamp) || int64(a.step) - int64(b.step));
    const s = new Series(renamedMetric(key));
    for (const p of points) s.push(int64(p.step), metricValue(p.value), int64(p.timestamp));
    series.set(s.name, s);
  }
  const flat: Record<string, unknown> = {};
  for (const p of run.data?.params ?? []) flat[renamedParam(p.key)] = paramValue(p.value);
  const status = labnoteStatus(run.info.status);
  const startTime = int64(run.info.start_time);
  const endTime = run.info.end_time === undefined || run.info.end_time === null || status === "running" ? undefined : int64(run.info.end_time);
  let lastTime = startTime;
  for (const s of series.values()) for (let i = 0; i < s.count; i++) lastTime = Math.max(lastTime, s.time(i));
  const { number, storage: runStorage } = storage.allocateRun(into);
  const metrics: Record<string, MetricSummary> = {};
  for (const s of series.values()) metrics[s.name] = s.summary();
  const origin: MlflowOrigin = { trackingUri: where.uri, experimentId: where.experimentId, experimentName: where.experimentName, runId: run.info.run_id, status: run.info.status ?? "", tags, imported: Date.now() };
  if (run.info.artifact_uri) origin.artifactUri = run.info.artifact_uri;
  const error = status === "failed" && tags["labnote.error"] ? errorOf(tags["labnote.error"]) : undefined;
  const rec: RunRecord = {
    format: 1,
    id: `${into}/${number}`,
    experiment: into,
    number,
    name: run.info.run_name || tags["mlflow.runName"] || "run",
    status,
    tags: labnoteTags(tags),
    startTime,
    ...(endTime !== undefined ? { endTime, duration: endTime - startTime } : {}),
    heartbeat: endTime ?? lastTime,
    // The process is MLflow's client's, elsewhere: no pid to watch.
    pid: 0,
    hostname: tags["labnote.host"] ?? "",
    config: unflattenConfig(flat),
    modified: [],
    added: [],
    named: [],
    seed: Number.isInteger(Number(tags["labnote.seed"])) && tags["labnote.seed"] !== undefined ? Number(tags["labnote.seed"]) : 0,
    metrics,
    histograms: [],
    artifacts: [],
    resources: [],
    cells: [],
    metadata: { mlflow: origin },
    ...(error ? { error } : {}),
  };
  const env: RunEnvironment = {};
  if (tags["mlflow.user"]) env.host = { user: tags["mlflow.user"] } as RunEnvironment["host"];
  const commit = tags["mlflow.source.git.commit"];
  if (commit || tags["mlflow.source.git.branch"]) env.git = { root: "", commit, branch: tags["mlflow.source.git.branch"], remote: tags["mlflow.source.git.repoURL"] };
  const view: RunView = {
    id: rec.id,
    experiment: into,
    number,
    name: rec.name,
    tags: rec.tags,
    status,
    ended: status !== "running",
    startTime,
    dir: runStorage.dir,
    env,
    record: () => rec,
    metricNames: () => [...series.keys()],
    series: (name: string): SeriesView | undefined => series.get(name),
  };
  const sink = runStorage.sink;
  if (sink) {
    sink.started?.(view);
    const batch: MetricBatch[] = [...series.values()].filter((s) => s.count > 0).map((s) => ({ series: s, from: 0, to: s.count }));
    if (batch.length) sink.metrics?.(view, batch);
    sink.ended?.(view);
    await sink.drain?.();
  }
  return { runId: run.info.run_id, name: rec.name, outcome: "imported", id: rec.id, points: [...series.values()].reduce((n, s) => n + s.count, 0) };
}

/** labnote's tags of an MLflow run: those labnote sent (`labnote.tags`), else the run's own tags (`key`, or `key:value`), MLflow's and labnote's system tags left out. */
function labnoteTags(tags: Record<string, string>): string[] {
  if (tags["labnote.tags"] !== undefined) return tags["labnote.tags"] === "" ? [] : tags["labnote.tags"].split(", ");
  const out: string[] = [];
  for (const [k, v] of Object.entries(tags)) if (!k.startsWith("mlflow.") && !k.startsWith("labnote.")) out.push(v === "" ? k : `${k}:${v}`);
  return out.sort();
}

/** `Name: message` as labnote's error. */
function errorOf(text: string): { name: string; message: string } {
  const m = /^(\w*Error|\w+Exception): ([\s\S]*)$/.exec(text);
  return m ? { name: m[1], message: m[2] } : { name: "Error", message: text };
}
