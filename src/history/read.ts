import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LabnoteError } from "../errors";
import type { RunRecord } from "../run/types";
import { readJsonMaybe, writeAtomic } from "../store/atomic";
import type { FileStore } from "../store/store";
import { readNumber } from "../util/json";

/** A running run whose heartbeat is older than this is shown as `died`. */
export const STALE_MS = 60_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed process its parent has not reaped yet still answers signals: a zombie is dead.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/**
 * The status a reader should show: a `running` record whose process is gone (same host)
 * or whose heartbeat is stale is `died`. Returns true when the process is known dead.
 */
export function liveStatus(rec: RunRecord, now = Date.now()): { status: RunRecord["status"]; certain: boolean } {
  if (rec.status !== "running") return { status: rec.status, certain: false };
  if (rec.hostname === os.hostname() && typeof rec.pid === "number") {
    if (rec.pid === process.pid) return { status: "running", certain: false };
    if (!pidAlive(rec.pid)) return { status: "died", certain: true };
    return { status: "running", certain: false };
  }
  return { status: now - rec.heartbeat > STALE_MS ? "died" : "running", certain: false };
}

/** Fix up numbers that records store as strings (NaN, ±Infinity). */
function normalize(rec: RunRecord): RunRecord {
  for (const m of Object.values(rec.metrics ?? {})) {
    m.last = readNumber(m.last);
    m.min = readNumber(m.min);
    m.max = readNumber(m.max);
  }
  return rec;
}

/** Read one run's record, applying the `died` rule (and persisting it when the process is known dead). */
export function readRunRecord(store: FileStore, experiment: string, number: number): RunRecord | undefined {
  const file = path.join(store.runDir(experiment, number), "run.json");
  const rec = readJsonMaybe<RunRecord>(file);
  if (!rec || typeof rec !== "object" || rec.number !== number) return undefined;
  const live = liveStatus(rec);
  if (live.status === "died") {
    rec.status = "died";
    rec.endTime ??= rec.heartbeat;
    rec.duration ??= rec.endTime - rec.startTime;
    if (live.certain) {
      try {
        writeAtomic(file, JSON.stringify(rec, null, 2) + "\n");
      } catch {
        /* a read-only store still reads */
      }
    }
  }
  return normalize(rec);
}

/** Every run record of an experiment, oldest first, without reading metric points. */
export function readHistory(store: FileStore, experiment: string): RunRecord[] {
  const out: RunRecord[] = [];
  for (const n of store.runNumbers(experiment)) {
    const rec = readRunRecord(store, experiment, n);
    if (rec) out.push(rec);
  }
  return out;
}

/** The experiments under a store root. */
export function listExperiments(root: string): string[] {
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith(".") && fs.existsSync(path.join(root, d.name, "experiment.json")))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** Parse `"mnist/3"`, `"3"` or `3` into a run number of `experiment`. */
export function parseRunId(experiment: string, id: string | number): number {
  if (typeof id === "number" && Number.isInteger(id) && id > 0) return id;
  if (typeof id === "string") {
    const m = /^(?:(.+)\/)?([1-9]\d*)$/.exec(id);
    if (m && (m[1] === undefined || m[1] === experiment)) return Number(m[2]);
    if (m) throw new LabnoteError("NOT_FOUND", `Run ${id} is not in experiment "${experiment}"`, `open experiment "${m[1]}" to read it`);
  }
  throw new LabnoteError("INVALID_VALUE", "Invalid run id", `expected "<experiment>/<number>" or a number, got ${JSON.stringify(id)}`);
}
