/**
 * Delivering a run from the store: a run whose process died (or exited) before MLflow had all of
 * it. Its outbox says what the server has; the store has the rest. Used by `labnote sync` and by
 * the next run of the experiment.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RUN_FILES, isRunFolder, type MetricColumns, type RunRecord } from "../../protocol";
import { readMetricColumns } from "../../history/metrics";
import { readRunRecord, runDir } from "../../history/read";
import { connection, MlflowClient } from "./client";
import { Delivery, Reachability, type PointsView, type RunSource } from "./delivery";
import { OUTBOX_FILE, readOutbox, takeLock } from "./outbox";

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
  id: string;
  dir: string;
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
  for (const n of names.sort((a, b) => Number(a) - Number(b))) {
    const runFolder = path.join(dir, n);
    if (!fs.existsSync(path.join(runFolder, OUTBOX_FILE))) continue;
    const box = readOutbox(runFolder);
    const id = `${experiment}/${n}`;
    if (id === options.except) continue;
    if (box === undefined) {
      out.push({ id, dir: runFolder, skip: `${OUTBOX_FILE} cannot be read` });
      continue;
    }
    if (box.done) continue;
    const r = readRunRecord(root, experiment, Number(n));
    if (!r.ok) {
      out.push({ id, dir: runFolder, skip: r.reason });
      continue;
    }
    if (r.record.status === "running") {
      out.push({ id, dir: runFolder, skip: `still running (process ${r.record.pid} on ${r.record.hostname} sends it)` });
      continue;
    }
    if (!takeLock(runFolder)) {
      out.push({ id, dir: runFolder, skip: "another process is sending it" });
      continue;
    }
    const uri = options.trackingUri ?? box.trackingUri;
    let c = options.shared && options.shared.client.conn.uri === connection(uri).uri ? options.shared : clients.get(uri);
    if (c === undefined) {
      const conn = connection(uri);
      c = { client: new MlflowClient(conn), reach: new Reachability(conn.uri, options.say) };
      clients.set(uri, c);
    }
    if (options.trackingUri !== undefined && connection(options.trackingUri).uri !== box.trackingUri) {
      // Another server: the run starts there from nothing.
      box.trackingUri = connection(options.trackingUri).uri;
      delete box.experimentId;
      delete box.runId;
      box.params = box.tags = false;
      box.metrics = {};
      box.artifacts = [];
    }
    const delivery = new Delivery(c.client, box, new StoredRun(root, r.record), c.reach, options.say);
    delivery.poke();
    out.push({ id, dir: runFolder, delivery });
  }
  return out;
}
