/**
 * The outbox: `mlflow.json` in a run's folder says how far the run got into MLflow (its MLflow
 * run id, each metric's count of points delivered, the params, tags and artifacts sent), saved
 * after each delivered batch. The points themselves are the store's: what is not delivered is
 * what lies past the cursors. A process that dies leaves it; `labnote sync` and the next run of
 * the experiment finish the delivery. It never holds a credential.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isPlainObject } from "../../protocol";
import { pidAlive } from "../../history/read";

/** The outbox's file name in a run's folder. */
export const OUTBOX_FILE = "mlflow.json";
/** Held by the process delivering a run's outbox. */
export const LOCK_FILE = "mlflow.lock";

/** What `mlflow.json` holds. */
export interface Outbox {
  format: 1;
  /** labnote's run id. */
  run: string;
  /** The tracking server, without credentials. */
  trackingUri: string;
  experimentName: string;
  experimentId?: string;
  /** MLflow's id of the run, once created. */
  runId?: string;
  /** Where the run's artifacts go through the server's proxy; null when the server does not serve artifacts. */
  artifactPrefix?: string | null;
  /** A key unique to this run wherever it was made, also a tag in MLflow: finds the run if its id was never saved. */
  uid: string;
  params: boolean;
  tags: boolean;
  /** Metric names that MLflow refuses, and the key each was sent as. */
  metricKeys: Record<string, string>;
  paramKeys: Record<string, string>;
  /** Per metric: how many of its points the server has. */
  metrics: Record<string, number>;
  /** The artifact files (relative to the run's folder) the server has. */
  artifacts: string[];
  /** Points the server refused (sent, answered with an error that no retry can change). */
  refused?: number;
  /** Set once the final status is in MLflow and nothing is left to send. */
  done: boolean;
  /** A trial of a sweep: the sweep's id (`<experiment>/sweep-<n>`), whose MLflow run is this run's parent. */
  parent?: string;
  /** MLflow's id of the parent run, once known (tag `mlflow.parentRunId`). */
  parentRunId?: string;
  /** The run ended in MLflow once and goes on (a resumed sweep): it is set RUNNING again first. */
  reopen?: boolean;
}

/** The names of an outbox and its lock inside their folder. */
export interface OutboxFiles {
  outbox: string;
  lock: string;
}

/** A run's outbox and lock, in the run's folder. */
export const RUN_OUTBOX: OutboxFiles = { outbox: OUTBOX_FILE, lock: LOCK_FILE };

/** A fresh outbox for a run. */
export function newOutbox(run: string, trackingUri: string, experimentName: string, uid: string): Outbox {
  return { format: 1, run, trackingUri, experimentName, uid, params: false, tags: false, metricKeys: {}, paramKeys: {}, metrics: {}, artifacts: [], done: false };
}

/** The outbox in `dir`, or undefined when there is none or it cannot be read. */
export function readOutbox(dir: string, name = OUTBOX_FILE): Outbox | undefined {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
  } catch {
    return undefined;
  }
  if (!isPlainObject(v) || v.format !== 1 || typeof v.run !== "string" || typeof v.trackingUri !== "string" || typeof v.experimentName !== "string") return undefined;
  const o = v as unknown as Outbox;
  o.metrics = isPlainObject(o.metrics) ? o.metrics : {};
  o.metricKeys = isPlainObject(o.metricKeys) ? o.metricKeys : {};
  o.paramKeys = isPlainObject(o.paramKeys) ? o.paramKeys : {};
  o.artifacts = Array.isArray(o.artifacts) ? o.artifacts : [];
  return o;
}

let counter = 0;

/** A temporary file beside the outbox, renamed over it once written: readers see the old one or the new one. */
function tmpFile(dir: string, name: string): string {
  return path.join(dir, `.${name}.${process.pid}.${++counter}.tmp`);
}

/** Save the outbox now (exit paths), atomically. */
export function saveOutbox(dir: string, box: Outbox, name = OUTBOX_FILE): void {
  const tmp = tmpFile(dir, name);
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(box, null, 1)}\n`);
    fs.renameSync(tmp, path.join(dir, name));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Save the outbox without blocking, atomically. */
export async function saveOutboxAsync(dir: string, box: Outbox, name = OUTBOX_FILE): Promise<void> {
  const tmp = tmpFile(dir, name);
  try {
    await fs.promises.writeFile(tmp, `${JSON.stringify(box, null, 1)}\n`);
    await fs.promises.rename(tmp, path.join(dir, name));
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Take the delivery of the run in `dir` for this process. False when another live process of
 * this machine holds it; a lock left by a process that is gone is taken over.
 */
export function takeLock(dir: string, name = LOCK_FILE): boolean {
  const file = path.join(dir, name);
  const mine = JSON.stringify({ pid: process.pid, hostname: os.hostname() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: "wx" });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return false;
    }
    let holder: { pid?: unknown; hostname?: unknown } = {};
    try {
      holder = JSON.parse(fs.readFileSync(file, "utf8")) as typeof holder;
    } catch {
      /* half-written or unreadable: treated as stale */
    }
    if (holder.pid === process.pid && holder.hostname === os.hostname()) return true;
    const otherHost = typeof holder.hostname === "string" && holder.hostname !== os.hostname();
    if (otherHost || (typeof holder.pid === "number" && pidAlive(holder.pid))) return false;
    fs.rmSync(file, { force: true });
  }
  return false;
}

/** Give the delivery back. */
export function releaseLock(dir: string, name = LOCK_FILE): void {
  try {
    const holder = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as { pid?: unknown };
    if (holder.pid === process.pid) fs.rmSync(path.join(dir, name), { force: true });
  } catch {
    /* already gone */
  }
}
