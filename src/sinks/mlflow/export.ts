/**
 * Past runs of the store into MLflow (`labnote export --to mlflow`), the same way the live sink
 * sends them (the same delivery: params, tags, metric points with steps and times, artifacts
 * through the proxy, the code, the final status and end time).
 *
 * Exporting again finds the earlier copy by labnote's run-id tag (and the run's start time, so
 * that two stores' `mnist/3` stay apart) and sends only what it lacks: the server itself says
 * what it holds. Per metric, the points MLflow has are counted (`metrics/get-history`) and the
 * points past that count are sent — every labnote delivery sends a metric's points in order, so
 * a copy holds a prefix of each. Artifacts already listed are not uploaded again; params go
 * again (MLflow takes a param it already has with the same value) and tags are set again.
 * Nothing is written to the store: the run's own outbox (`mlflow.json`), if any, is left as is.
 */
import * as os from "node:os";
import * as path from "node:path";
import { LabnoteError, SWEEPS_DIR, parseSweepId, trialOf, type RunRecord, type SweepRecord } from "../../protocol";
import { runDir } from "../../history/read";
import { readSweepRecord } from "../../history/sweep";
import { sha256 } from "../../core/util/hash";
import { artifactPrefix, connection, MlflowClient, MlflowRequestError, type MlflowRun } from "./client";
import { Delivery, Reachability, type RunSource } from "./delivery";
import { newOutbox, readOutbox, type Outbox } from "./outbox";
import { KeyMap, mlflowStatus } from "./rules";
import { StoredRun } from "./stored";
import { SWEEP_ID_TAG, SweepSource } from "./sweep";

/** Options of an export into MLflow. */
export interface MlflowExportOptions {
  /** The server; default `MLFLOW_TRACKING_URI`. */
  trackingUri?: string;
  /** The MLflow experiment the runs go to (found or created); default each run's labnote experiment. */
  experimentName?: string;
  /** Where warnings go. */
  say: (message: string) => void;
  /** Hears the count of points of each delivered batch (a progress bar). */
  onPoints?: (n: number) => void;
  /** Give up on a run when the server has answered nothing for this long, in ms (default 120,000). */
  stallMs?: number;
}

/** What became of one run. */
export interface ExportedRun {
  id: string;
  /** `created`: a new MLflow run; `completed`: an earlier copy got what it lacked; `skipped`; `owed`: the server stopped answering. */
  outcome: "created" | "completed" | "skipped" | "owed";
  /** Why it was skipped, or how far it got. */
  reason?: string;
  experimentName: string;
  /** MLflow's run id. */
  runId?: string;
  /** MLflow's status of the run, once set. */
  status?: string;
  /** Points sent by this export. */
  sent: number;
  /** Points the server refused. */
  refused: number;
  /** A trial of a sweep: MLflow's id of its parent run (the sweep's). */
  parentRunId?: string;
}

/** The tag that holds labnote's run id in MLflow. */
export const RUN_ID_TAG = "labnote.run_id";

/** A string as a literal of MLflow's search filter. */
function filterString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** An int64 of MLflow's JSON (a number or a string) as a number. */
export function int64(v: number | string | undefined): number {
  return v === undefined ? 0 : Number(v);
}

/**
 * The MLflow copy of `rec` in the experiment, if there is one: tagged with its run id and started
 * at its start time; the run its outbox names first, when the outbox streamed to this server.
 */
export async function earlierCopy(client: MlflowClient, experimentId: string, rec: RunRecord, root: string): Promise<MlflowRun | undefined> {
  return findCopy(client, experimentId, RUN_ID_TAG, rec.id, rec.startTime, readOutbox(runDir(root, rec.experiment, rec.number)));
}

/** The MLflow run tagged `tag` = `id` and started at `startTime`; the one `box` names first, when it streamed to this server. */
async function findCopy(client: MlflowClient, experimentId: string, tag: string, id: string, startTime: number, box: Outbox | undefined): Promise<MlflowRun | undefined> {
  const runs = await client.allRuns(experimentId, `tags.\`${tag}\` = ${filterString(id)}`);
  if (runs.length === 0) return undefined;
  if (box?.runId && box.trackingUri === client.conn.uri) {
    const named = runs.find((r) => r.info.run_id === box.runId);
    if (named) return named;
  }
  return runs.find((r) => int64(r.info.start_time) === Math.round(startTime));
}

/** name → key of the names MLflow's copy records as renamed (`labnote.metric_name.<key>` = name). */
function renamedIn(run: MlflowRun, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of run.data?.tags ?? []) if (t.key.startsWith(prefix)) out[t.value] = t.key.slice(prefix.length);
  return out;
}

/** The outbox a delivery of `rec` starts from: what MLflow's copy already holds, or nothing. */
async function startingPoint(client: MlflowClient, box: Outbox, copy: MlflowRun | undefined, source: RunSource): Promise<void> {
  if (copy === undefined) return;
  box.runId = copy.info.run_id;
  box.artifactPrefix = artifactPrefix(copy.info.artifact_uri) ?? null;
  box.metricKeys = renamedIn(copy, "labnote.metric_name.");
  box.paramKeys = renamedIn(copy, "labnote.param_name.");
  const keys = new KeyMap({ ...box.metricKeys });
  const onServer = new Set((copy.data?.metrics ?? []).map((m) => m.key));
  for (const name of source.metricNames()) {
    const key = keys.key(name);
    box.metrics[name] = onServer.has(key) ? (await client.metricHistory(copy.info.run_id, key)).length : 0;
  }
  if (box.artifactPrefix) {
    const there = new Set(await client.artifactFiles(copy.info.run_id));
    box.artifacts = source
      .artifacts()
      .map((a) => a.file)
      .filter((f) => there.has(f.split(path.sep).join("/")));
  }
}

/** A key unique to this run of this store, for a run that has no outbox of its own. */
function exportUid(root: string, rec: RunRecord): string {
  return sha256(`export\0${os.hostname()}\0${path.resolve(root)}\0${rec.id}\0${rec.startTime}`).slice(0, 32);
}

/**
 * Send `records` (runs of the store under `root`) into MLflow, one after another, each
 * completing an earlier copy if the server has one.
 * @example
 * for (const r of await exportToMlflow(root, readHistory(root, "mnist"), { say: console.error })) console.log(r.id, r.outcome);
 */
export async function exportToMlflow(root: string, records: readonly RunRecord[], options: MlflowExportOptions): Promise<ExportedRun[]> {
  const conn = connection(options.trackingUri);
  const client = new MlflowClient(conn);
  const stallMs = options.stallMs ?? 120_000;
  const reach = new Reachability(conn.uri, options.say, "The export waits for it and stops if it stays silent.");
  const experimentIds = new Map<string, string>();
  const experimentIdOf = async (name: string): Promise<string> => {
    let id = experimentIds.get(name);
    if (id === undefined) {
      id = await client.ensureExperiment(name);
      experimentIds.set(name, id);
    }
    return id;
  };
  const out: ExportedRun[] = [];
  /** Per sweep and MLflow experiment: its parent run there, exported (or found) before its first trial. */
  const parents = new Map<string, ExportedRun | undefined>();
  const send = async (id: string, experimentName: string, source: RunSource, box: Outbox, copy: MlflowRun | undefined): Promise<ExportedRun> => {
    const before = Object.values(box.metrics).reduce((a, n) => a + n, 0);
    if (before > 0) options.onPoints?.(before);
    let lastAnswer = Date.now();
    const d = new Delivery(client, box, source, reach, options.say, { persist: false, onPoints: options.onPoints, onAnswer: () => (lastAnswer = Date.now()) });
    d.poke();
    let watchdog: NodeJS.Timeout | undefined;
    const stalled = new Promise<void>((resolve) => {
      watchdog = setInterval(() => Date.now() - lastAnswer > stallMs && resolve(), 250);
    });
    await Promise.race([d.done, stalled]);
    clearInterval(watchdog);
    d.stop();
    const sent = Object.values(box.metrics).reduce((a, n) => a + n, 0) - before;
    const refused = box.refused ?? 0;
    if (!box.done) return { id, outcome: "owed", reason: `the server at ${conn.uri} stopped answering for ${Math.round(stallMs / 1000)} s; export again to send the rest`, experimentName, runId: box.runId, sent, refused };
    return { id, outcome: copy ? "completed" : "created", experimentName, runId: box.runId, status: mlflowStatus(source.record().status), sent, refused };
  };
  for (const rec of records) {
    const experimentName = options.experimentName ?? rec.experiment;
    if (rec.status === "running") {
      out.push({ id: rec.id, outcome: "skipped", reason: "it is still running (its process sends it live with the mlflow option; export it once it ended)", experimentName, sent: 0, refused: 0 });
      continue;
    }
    let copy: MlflowRun | undefined;
    const source = new StoredRun(root, rec);
    const box = newOutbox(rec.id, conn.uri, experimentName, readOutbox(source.dir)?.uid ?? exportUid(root, rec));
    try {
      box.experimentId = await experimentIdOf(experimentName);
      const trial = trialOf(rec);
      if (trial) {
        const key = `${experimentName}\0${trial.id}`;
        if (!parents.has(key)) {
          const p = await exportSweep(trial.id, rec.experiment, experimentName, box.experimentId);
          parents.set(key, p);
          if (p) out.push(p);
        }
        const parent = parents.get(key);
        if (parent?.runId) {
          box.parent = trial.id;
          box.parentRunId = parent.runId;
        }
      }
      copy = await earlierCopy(client, box.experimentId, rec, root);
      await startingPoint(client, box, copy, source);
    } catch (e) {
      if (e instanceof MlflowRequestError) throw unreachable(conn.uri, e);
      throw e;
    }
    const result = await send(rec.id, experimentName, source, box, copy);
    if (box.parentRunId) result.parentRunId = box.parentRunId;
    out.push(result);
  }
  return out;

  /**
   * A sweep's parent run, found again (by its sweep-id tag and start time) or created, with what
   * it lacks; undefined (and a warning) when the sweep's record cannot be read.
   */
  async function exportSweep(sweepId: string, experiment: string, experimentName: string, experimentId: string): Promise<ExportedRun | undefined> {
    let number: number;
    try {
      number = parseSweepId(experiment, sweepId);
    } catch {
      return undefined;
    }
    const r = readSweepRecord(root, experiment, number);
    if (!r.ok) {
      options.say(`labnote: the trials of sweep ${sweepId} go to MLflow without a parent run: ${r.file}: ${r.reason}`);
      return undefined;
    }
    const record: SweepRecord = r.record;
    const dir = path.join(root, experiment, SWEEPS_DIR);
    const source = new SweepSource(dir, number, () => record, false);
    const own = readOutbox(dir, source.files.outbox);
    const box = newOutbox(sweepId, conn.uri, experimentName, own?.uid ?? sha256(`export\0${os.hostname()}\0${path.resolve(root)}\0${sweepId}\0${record.startTime}`).slice(0, 32));
    box.experimentId = experimentId;
    const copy = await findCopy(client, experimentId, SWEEP_ID_TAG, sweepId, record.startTime, own);
    await startingPoint(client, box, copy, source);
    if (!source.ended()) {
      // Still running in its own process (which sends it live): the trials nest under it all the same.
      const d = new Delivery(client, box, source, reach, options.say, { persist: false });
      const runId = await d.created();
      return { id: sweepId, outcome: "skipped", reason: "the sweep is still running (its process sends it live with the mlflow option); its finished trials are nested under it", experimentName, runId, sent: 0, refused: 0 };
    }
    return send(sweepId, experimentName, source, box, copy);
  }
}

/** The error of a server that cannot be reached or refuses what it is asked. */
export function unreachable(uri: string, e: MlflowRequestError): LabnoteError {
  const auth = e.status === 401 || e.status === 403 ? "; check MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD" : e.status === 0 ? "; is the server running? (e.g. mlflow server --host 127.0.0.1 --port 5000)" : "";
  return new LabnoteError("REMOTE", `The MLflow server at ${uri} ${e.status === 0 ? "cannot be reached" : "refused a request"}`, `${e.message}${auth}`, { cause: e });
}
