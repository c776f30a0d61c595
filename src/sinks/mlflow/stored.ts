/**
 * Delivering a run from the store: a run whose process died (or exited) before MLflow had all of
 * it. Its outbox says what the server has; the store has the rest. Used by `labnote sync` and by
 * the next run of the experiment.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { RUN_FILES, SWEEPS_DIR, isRunFolder, parseSweepId, trialOf, type MetricColumns, type RunRecord } from "../../protocol";
import { readMetricColumns } from "../../history/metrics";
import { listNames, readRunRecord, runDir } from "../../history/read";
import { readSweepRecord } from "../../history/sweep";
import { sha256 } from "../../core/util/hash";
import { connection, MlflowClient } from "./client";
import { Delivery, Reachability, type PointsView, type RunSource } from "./delivery";
import { OUTBOX_FILE, newOutbox, readOutbox, releaseLock, takeLock, type Outbox } from "./outbox";
import { SweepSource, sweepFiles, sweepOutboxNumber } from "./sweep";

/** A finished (or died) run as the store holds it. */
export class StoredRun implements RunSource {
  readonly dir: string;
  constructor(
    readonly root: string,
    private readonly rec: RunRecord,
  ) {
    this.dir = runDir(root, rec.experiment, rec.number);
  }

  record(): RunRecord {
    return this.rec;
  }

  env(): ReturnType<RunSource["env"]> {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir, RUN_FILES.env), "utf8")) as ReturnType<RunSource["env"]>;
    } catch {
      return {};
    }
  }

  metricNames(): string[] {
    return [...this.columns().keys()];
  }

  available(name: string): number {
    return this.columns().get(name)?.steps.length ?? 0;
  }

  points(name: string): PointsView | undefined {
    const c = this.columns().get(name);
    return c && { step: (i) => c.steps[i], value: (i) => c.values[i], time: (i) => c.times[i] };
  }

  ended(): boolean {
    return this.rec.status !== "running";
  }

  artifacts(): RunRecord["artifacts"] {
    return this.rec.artifacts;
  }

  private columns(): Map<string, MetricColumns> {
    return (this.cols ??= readMetricColumns(this.dir, this.rec.id));
  }

  private cols: Map<string, MetricColumns> | undefined;
}

/** A run of the store whose outbox is not done yet. */
export interface Leftover {
  /** The run's id, or a sweep's (`<experiment>/sweep-<n>`: its parent run in MLflow). */
  id: string;
  dir: string;
  /** The outbox's path. */
  file: string;
  /** Why it cannot be delivered now, if so (still running, held by another process, unreadable). */
  skip?: string;
  delivery?: Delivery;
}

/** Options for delivering runs from the store. */
export interface DeliverStoredOptions {
  /** Overrides the tracking URI each outbox names. */
  trackingUri?: string;
  /** Where warnings go. */
  say: (message: string) => void;
  /** The client (and reachability) to use for outboxes naming this URI. */
  shared?: { client: MlflowClient; reach: Reachability };
  /** Leave this run out (the caller's own). */
  except?: string;
  /** The delivery of a sweep that this process is running now, if it is one (its trials nest under it). */
  liveSweep?: (sweepId: string) => Delivery | undefined;
}

/** Forget what an outbox knows of its server: the run starts there from nothing. */
function resetOutbox(box: Outbox, uri: string): void {
  box.trackingUri = uri;
  delete box.experimentId;
  delete box.runId;
  delete box.parentRunId;
  delete box.reopen;
  box.done = false;
  box.params = box.tags = false;
  box.metrics = {};
  box.artifacts = [];
}

/** Start delivering every run of `experiment` under `root` whose outbox is not done and whose process is gone. */
export function deliverLeftovers(root: string, experiment: string, options: DeliverStoredOptions): Leftover[] {
  const dir = path.join(root, experiment);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter(isRunFolder);
  } catch {
    return [];
  }
  const out: Leftover[] = [];
  const clients = new Map<string, { client: MlflowClient; reach: Reachability }>();
  const clientFor = (uri: string) => {
    let c = options.shared && options.shared.client.conn.uri === connection(uri).uri ? options.shared : clients.get(uri);
    if (c === undefined) {
      const conn = connection(uri);
      c = { client: new MlflowClient(conn), reach: new Reachability(conn.uri, options.say) };
      clients.set(uri, c);
    }
    return c;
  };
  const sweepsDir = path.join(dir, SWEEPS_DIR);
  /** Per sweep: its delivery, its MLflow run id when that is all a trial needs, or why trials cannot nest under it now. */
  const parents = new Map<string, Delivery | { runId: string; experimentId: string; uri: string } | { busy: string } | { none: string }>();
  /** The parent of sweep `sweepId` for a trial streaming to `uri` (into MLflow experiment `experimentName`). */
  const parentOf = (sweepId: string, uri: string, experimentName: string) => {
    const live = options.liveSweep?.(sweepId);
    if (live) return live;
    const known = parents.get(sweepId);
    if (known) return known;
    let number: number;
    try {
      number = parseSweepId(experiment, sweepId);
    } catch {
      const none = { none: `${sweepId} is not a sweep of ${experiment}` };
      parents.set(sweepId, none);
      return none;
    }
    const files = sweepFiles(number);
    const file = path.join(sweepsDir, files.outbox);
    const target = connection(options.trackingUri ?? uri).uri;
    let box = readOutbox(sweepsDir, files.outbox);
    if (box?.done && box.runId !== undefined && box.experimentId !== undefined && box.trackingUri === target) {
      const known = { runId: box.runId, experimentId: box.experimentId, uri: target };
      parents.set(sweepId, known);
      return known;
    }
    const r = readSweepRecord(root, experiment, number);
    if (!r.ok) {
      const none = { none: r.reason };
      parents.set(sweepId, none);
      return none;
    }
    const source = new SweepSource(sweepsDir, number, () => r.record, false);
    if (source.status() === "running") {
      const busy = { busy: `its sweep ${sweepId} is still running (process ${r.record.pid} on ${r.record.hostname} sends it)` };
      parents.set(sweepId, busy);
      return busy;
    }
    if (!takeLock(sweepsDir, files.lock)) {
      const busy = { busy: `another process is sending its sweep ${sweepId}` };
      parents.set(sweepId, busy);
      return busy;
    }
    if (box === undefined) box = newOutbox(sweepId, target, experimentName, sha256(Buffer.from(`sync\0${os.hostname()}\0${path.resolve(root)}\0${sweepId}\0${r.record.startTime}`)).slice(0, 32));
    else if (box.trackingUri !== target) resetOutbox(box, target);
    const c = clientFor(target);
    const d = new Delivery(c.client, box, source, c.reach, options.say);
    d.poke();
    parents.set(sweepId, d);
    out.push({ id: sweepId, dir: sweepsDir, file, delivery: d });
    return d;
  };
  // Sweeps first: their runs are their trials' parents.
  for (const name of listNames(sweepsDir, (x) => sweepOutboxNumber(x) !== undefined)) {
    const n = sweepOutboxNumber(name)!;
    const box = readOutbox(sweepsDir, name);
    const id = `${experiment}/sweep-${n}`;
    if (box === undefined) {
      out.push({ id, dir: sweepsDir, file: path.join(sweepsDir, name), skip: `${name} cannot be read` });
      continue;
    }
    if (box.done && (options.trackingUri === undefined || connection(options.trackingUri).uri === box.trackingUri)) continue;
    if (options.liveSweep?.(id)) continue;
    const p = parentOf(id, box.trackingUri, box.experimentName);
    if ("busy" in p || "none" in p) out.push({ id, dir: sweepsDir, file: path.join(sweepsDir, name), skip: "busy" in p ? p.busy.replace(/^its sweep \S+ is /, "") : p.none });
  }
  for (const n of names.sort((a, b) => Number(a) - Number(b))) {
    const runFolder = path.join(dir, n);
    if (!fs.existsSync(path.join(runFolder, OUTBOX_FILE))) continue;
    const box = readOutbox(runFolder);
    const id = `${experiment}/${n}`;
    const file = path.join(runFolder, OUTBOX_FILE);
    if (id === options.except) continue;
    if (box === undefined) {
      out.push({ id, dir: runFolder, file, skip: `${OUTBOX_FILE} cannot be read` });
      continue;
    }
    if (box.done) continue;
    const r = readRunRecord(root, experiment, Number(n));
    if (!r.ok) {
      out.push({ id, dir: runFolder, file, skip: r.reason });
      continue;
    }
    if (r.record.status === "running") {
      out.push({ id, dir: runFolder, file, skip: `still running (process ${r.record.pid} on ${r.record.hostname} sends it)` });
      continue;
    }
    if (!takeLock(runFolder)) {
      out.push({ id, dir: runFolder, file, skip: "another process is sending it" });
      continue;
    }
    const uri = options.trackingUri ?? box.trackingUri;
    const c = clientFor(uri);
    if (options.trackingUri !== undefined && connection(options.trackingUri).uri !== box.trackingUri) resetOutbox(box, connection(options.trackingUri).uri);
    // A trial of a sweep goes under the sweep's run (made first if the server lacks it).
    box.parent ??= trialOf(r.record)?.id;
    let parent: ((experimentId: string) => Promise<string | undefined>) | undefined;
    if (box.parent !== undefined && box.parentRunId === undefined) {
      const p = parentOf(box.parent, box.trackingUri, box.experimentName);
      if ("busy" in p) {
        releaseLock(runFolder);
        out.push({ id, dir: runFolder, file, skip: p.busy });
        continue;
      }
      parent = async (experimentId) => {
        if (p instanceof Delivery) return p.created();
        if ("runId" in p) return p.experimentId === experimentId ? p.runId : undefined;
        return undefined;
      };
    }
    const delivery = new Delivery(c.client, box, new StoredRun(root, r.record), c.reach, options.say, { parent });
    delivery.poke();
    out.push({ id, dir: runFolder, file, delivery });
  }
  return out;
}
