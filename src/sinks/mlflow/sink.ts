/**
 * The MLflow sink: every run of the experiment streams into an MLflow tracking server over its
 * REST API while it runs (params, tags, metric points, artifacts, the final status). Nothing of
 * it is on the logging path: the sink's calls only note how far each metric got, and the
 * sending happens in an async loop (see `delivery.ts`). A server that is down, slow or
 * answering errors never slows or fails the run; the outbox in the run's folder keeps what is
 * owed. The local store stays the source of truth.
 */
import * as os from "node:os";
import * as path from "node:path";
import { LabnoteError, describe, trialOf, type ArtifactRecord, type RunRecord } from "../../protocol";
import type { MetricBatch, RunSink, RunView, SweepSinkView } from "../../core/events";
import { sha256 } from "../../core/util/hash";
import { warn } from "../../core/util/warn";
import { connection, MlflowClient, type Connection } from "./client";
import { Delivery, Reachability, type PointsView, type RunSource } from "./delivery";
import { newOutbox, readOutbox, saveOutbox, takeLock, type Outbox } from "./outbox";
import { deliverLeftovers } from "./stored";
import { SweepSource } from "./sweep";

/**
 * Sweeps being sent from this process, by tracking URI and sweep id: a sweep resumed by a cell
 * run again (a new experiment object, a new sink) goes on with the same delivery.
 */
const SWEEPS: Map<string, { d: Delivery; source: SweepSource }> = ((globalThis as unknown as Record<symbol, Map<string, { d: Delivery; source: SweepSource }> | undefined>)[
  Symbol.for("labnote.mlflow.sweeps")
] ??= new Map());

/** Where runs go in MLflow. */
export interface MlflowOptions {
  /** The tracking server, `http(s)://host:port`. Default: `MLFLOW_TRACKING_URI`. */
  trackingUri?: string;
  /** The MLflow experiment (found or created by name). Default: the labnote experiment's name. */
  experimentName?: string;
  /**
   * How long `run.end()` waits for the server to have everything, in ms (default 5000). What is
   * not delivered by then keeps going in the background (and stays in the outbox). A server that
   * does not answer is not waited for at all.
   */
  endWaitMs?: number;
}

/** Check the `mlflow` option of an experiment: true or `{ trackingUri?, experimentName?, endWaitMs? }`. */
export function checkMlflowOption(v: unknown): MlflowOptions {
  if (v === true) return {};
  const bad = (detail: string) => new LabnoteError("INVALID_OPTION", "Invalid option mlflow", detail);
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw bad(`expected true or { trackingUri, experimentName }, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!["trackingUri", "experimentName", "endWaitMs"].includes(k)) throw bad(`unknown key "${k}"; it takes trackingUri, experimentName and endWaitMs`);
  if (o.trackingUri !== undefined && typeof o.trackingUri !== "string") throw bad(`trackingUri must be a URL string, got ${describe(o.trackingUri)}`);
  if (o.experimentName !== undefined && (typeof o.experimentName !== "string" || o.experimentName.trim() === "")) throw bad(`experimentName must be a non-empty string, got ${describe(o.experimentName)}`);
  if (o.endWaitMs !== undefined && !(typeof o.endWaitMs === "number" && o.endWaitMs >= 0)) throw bad(`endWaitMs must be a number of milliseconds ≥ 0, got ${describe(o.endWaitMs)}`);
  return o as MlflowOptions;
}

/** A live run, as a delivery reads it. */
class LiveRun implements RunSource {
  readonly dir: string | undefined;
  readonly root: string | undefined;
  /** Points handed over so far, per metric: what may be sent. */
  readonly counts = new Map<string, number>();
  readonly artifactList: ArtifactRecord[] = [];

  constructor(private readonly view: RunView) {
    this.dir = view.dir;
    this.root = view.dir === undefined ? undefined : path.dirname(path.dirname(view.dir));
  }

  record(): RunRecord {
    return this.view.record();
  }

  env(): ReturnType<RunSource["env"]> {
    return this.view.env;
  }

  metricNames(): string[] {
    return [...this.counts.keys()];
  }

  available(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  points(name: string): PointsView | undefined {
    return this.view.series(name);
  }

  ended(): boolean {
    return this.view.ended;
  }

  artifacts(): readonly ArtifactRecord[] {
    return this.artifactList;
  }
}

/**
 * Streams every run it sees into an MLflow tracking server.
 * @example experiment("mnist", { mlflow: true })   // MLFLOW_TRACKING_URI names the server
 * @example experiment("mnist", { mlflow: { trackingUri: "http://127.0.0.1:5000", experimentName: "mnist-team" } })
 */
export class MlflowSink implements RunSink {
  readonly conn: Connection;

  constructor(options: MlflowOptions = {}, env: NodeJS.ProcessEnv = process.env) {
    const o = checkMlflowOption(options);
    this.conn = connection(o.trackingUri, env);
    this.experimentName = o.experimentName;
    this.endWaitMs = o.endWaitMs ?? 5000;
    this.client = new MlflowClient(this.conn);
    this.reach = new Reachability(this.conn.uri, warn);
  }

  started(run: RunView): void {
    const source = new LiveRun(run);
    const uid = sha256(Buffer.from(`${os.hostname()}\0${run.dir ?? "ghost"}\0${run.startTime}\0${run.id}\0${process.pid}`)).slice(0, 32);
    const box = newOutbox(run.id, this.conn.uri, this.experimentName ?? run.experiment, uid);
    // A trial of a sweep is nested under the sweep's run, whose id its delivery asks for first.
    const trial = trialOf(run.record());
    if (trial) box.parent = trial.id;
    if (run.dir !== undefined) {
      takeLock(run.dir);
      saveOutbox(run.dir, box);
    }
    const d = new Delivery(this.client, box, source, this.reach, warn, { parent: trial ? () => this.parentRunId(trial.id) : undefined });
    this.runs.set(run.id, { d, source });
    void d.done.then(() => this.runs.delete(run.id));
    d.poke();
    // Runs of this experiment that a process left undelivered go too, once this one is under way.
    if (run.dir !== undefined && !this.caughtUp.has(path.dirname(run.dir))) {
      const expDir = path.dirname(run.dir);
      this.caughtUp.add(expDir);
      const t = setTimeout(() => {
        try {
          for (const l of deliverLeftovers(path.dirname(expDir), path.basename(expDir), { say: warn, shared: { client: this.client, reach: this.reach }, except: run.id, liveSweep: (id) => SWEEPS.get(this.sweepKey(id))?.d }))
            if (l.delivery) this.leftovers.add(l.delivery);
        } catch (e) {
          warn(`labnote: the undelivered MLflow runs of ${path.basename(expDir)} are left for labnote sync: ${e instanceof Error ? e.message : String(e)}`);
        }
      }, 0);
      t.unref();
    }
  }

  metrics(run: RunView, batch: MetricBatch[]): void {
    const r = this.runs.get(run.id);
    if (!r) return;
    for (const b of batch) r.source.counts.set(b.series.name, b.to);
    r.d.poke();
  }

  artifact(run: RunView, a: ArtifactRecord): void {
    const r = this.runs.get(run.id);
    if (!r) return;
    r.source.artifactList.push(a);
    r.d.poke();
  }

  ended(run: RunView): void {
    const r = this.runs.get(run.id);
    if (!r) return;
    r.d.poke();
    r.d.saveNow();
  }

  /**
   * A sweep starts (or resumes): its parent run is created in MLflow before anything else of it,
   * off the logging path; a sweep resumed after it ended there is set RUNNING again.
   */
  sweepStarted(sweep: SweepSinkView): void {
    const key = this.sweepKey(sweep.id);
    const read = () => sweep.record();
    const known = SWEEPS.get(key);
    if (known && !known.d.box.done) {
      known.source.use(read);
      known.d.poke();
      return;
    }
    const source = new SweepSource(sweep.dir, sweep.number, read, true);
    const experimentName = this.experimentName ?? sweep.experiment;
    let box: Outbox | undefined = known?.d.box ?? (sweep.dir === undefined ? undefined : readOutbox(sweep.dir, source.files.outbox));
    if (box && (box.trackingUri !== this.conn.uri || box.experimentName !== experimentName || box.run !== sweep.id)) box = undefined;
    if (box?.done) {
      // Ended in MLflow, resumed here: RUNNING again, and its tags (the plan's size may have grown) set again.
      box.done = false;
      box.reopen = true;
      box.tags = false;
    }
    const rec = sweep.record();
    box ??= newOutbox(sweep.id, this.conn.uri, experimentName, sha256(Buffer.from(`${os.hostname()}\0${sweep.dir ?? "ghost"}\0${rec.startTime}\0${sweep.id}\0${process.pid}`)).slice(0, 32));
    if (sweep.dir !== undefined) {
      takeLock(sweep.dir, source.files.lock);
      saveOutbox(sweep.dir, box, source.files.outbox);
    }
    const d = new Delivery(this.client, box, source, this.reach, warn);
    SWEEPS.set(key, { d, source });
    this.sweeps.add(key);
    d.poke();
  }

  sweepChanged(sweep: SweepSinkView): void {
    SWEEPS.get(this.sweepKey(sweep.id))?.d.poke();
  }

  sweepEnded(sweep: SweepSinkView): void {
    const s = SWEEPS.get(this.sweepKey(sweep.id));
    s?.d.poke();
    s?.d.saveNow();
  }

  /** MLflow's id of a sweep's run (created first if need be); undefined for a sweep not sent from this process. */
  private async parentRunId(sweepId: string): Promise<string | undefined> {
    const s = SWEEPS.get(this.sweepKey(sweepId));
    return s ? s.d.created() : undefined;
  }

  private sweepKey(sweepId: string): string {
    return `${this.conn.uri}\0${sweepId}`;
  }

  /** Waits (at most `endWaitMs`) for the server to have what was logged; not at all while it does not answer. */
  async drain(): Promise<void> {
    await Promise.all([...this.runs.values()].map((r) => r.d.settled(this.endWaitMs)));
  }

  drainSync(): void {
    for (const r of this.runs.values()) r.d.saveNow();
    for (const k of this.sweeps) SWEEPS.get(k)?.d.saveNow();
  }

  /** Stop sending, for every run of this sink; what is not delivered stays in the outboxes for `labnote sync`. */
  stop(): void {
    for (const r of this.runs.values()) {
      r.d.stop();
      r.d.saveNow();
    }
    for (const d of this.leftovers) d.stop();
    for (const k of this.sweeps) {
      const s = SWEEPS.get(k);
      s?.d.stop();
      s?.d.saveNow();
    }
  }

  private readonly experimentName: string | undefined;
  private readonly endWaitMs: number;
  private readonly client: MlflowClient;
  private readonly reach: Reachability;
  private readonly runs = new Map<string, { d: Delivery; source: LiveRun }>();
  private readonly caughtUp = new Set<string>();
  /** Keys (in SWEEPS) of the sweeps this sink started sending. */
  private readonly sweeps = new Set<string>();
  private readonly leftovers = new Set<Delivery>();
}
