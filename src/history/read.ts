/**
 * Reading run records from the store: one record, an experiment's history, the experiments
 * under a root. Reading never writes: a record still `running` whose process is gone is shown
 * `died` by the protocol's rule, and stays as it is on disk. A record that cannot be read is
 * reported (the run and the reason), never dropped without a word.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ANNOTATIONS_FILE, EXPERIMENT_FILE, LabnoteError, RUN_FILES, checkSegment, isExperimentFolder, isRunFolder, parseAnnotations, parseRunRecord, storeError, withAnnotations, withEffectiveStatus, type Annotations, type RunRecord } from "../protocol";

/** A run folder whose record could not be read. */
export interface Unreadable {
  /** `<experiment>/<number>` */
  id: string;
  /** The run's record file. */
  file: string;
  reason: string;
}

/** Called once for each run that is skipped because its record is unreadable. */
export type OnUnreadable = (u: Unreadable) => void;

/** True when the process `pid` of this machine is alive (a zombie is dead). */
export function pidAlive(pid: number): boolean {
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

let host: string | undefined;

/** Whether a run's process is alive, when this reader can know it (same host); undefined otherwise. */
export function processAlive(rec: Pick<RunRecord, "pid" | "hostname">): boolean | undefined {
  if (rec.hostname !== (host ??= os.hostname()) || typeof rec.pid !== "number" || rec.pid <= 0) return undefined;
  if (rec.pid === process.pid) return true;
  return pidAlive(rec.pid);
}

/** The folder of run `number` of `experiment` under `root`. */
export function runDir(root: string, experiment: string, number: number): string {
  return path.join(root, checkSegment("experiment", experiment), String(number));
}

/**
 * Read one run's record, its status as a reader shows it. `{ ok: false, reason }` when the
 * folder has no readable record.
 */
export function readRunRecord(root: string, experiment: string, number: number, now = Date.now()): { ok: true; record: RunRecord } | { ok: false; reason: string; file: string } {
  return readRecordIn(path.join(root, checkSegment("experiment", experiment)), experiment, number, now);
}

/** {@link readRunRecord} in an experiment's folder already checked. */
function readRecordIn(expDir: string, experiment: string, number: number, now: number): { ok: true; record: RunRecord } | { ok: false; reason: string; file: string } {
  const file = path.join(expDir, String(number), RUN_FILES.record);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "it has no run.json (the run's process may have been killed as it started)" : storeError("read", file, e).message;
    return { ok: false, reason, file };
  }
  const parsed = parseRunRecord(text);
  if (!parsed.ok) return { ...parsed, file };
  const own = parsed.record;
  if (own.experiment !== experiment || own.number !== number) return { ok: false, reason: `run.json says it is run ${own.experiment}/${own.number}`, file };
  const rec = withAnnotations(own, readAnnotations(path.dirname(file)));
  return { ok: true, record: withEffectiveStatus(rec, { now, alive: rec.status === "running" ? processAlive(rec) : undefined }) };
}

/**
 * A run folder's annotations (notes and tags a person added), undefined when it has none. A
 * damaged file is reported once on stderr and read as none: the record still shows.
 */
export function readAnnotations(runFolder: string): Annotations | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runFolder, ANNOTATIONS_FILE), "utf8");
  } catch {
    return undefined;
  }
  const a = parseAnnotations(text);
  if (a.ok) return a.value;
  console.warn(`labnote: ignored the annotations of ${runFolder}: ${a.reason}`);
  return undefined;
}

/**
 * The names in a store folder that `keep` accepts, in the order the file system gives them; none
 * when the folder does not exist yet. Any other failure to list it is a store error.
 */
export function listNames(dir: string, keep: (name: string) => boolean): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw storeError("read", dir, e);
  }
  return names.filter(keep);
}

/** Run numbers present on disk, ascending. */
export function runNumbers(root: string, experiment: string): number[] {
  return listNames(path.join(root, checkSegment("experiment", experiment)), isRunFolder)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Every readable run record of an experiment, oldest first, without reading metric points.
 * Each unreadable record is passed to `onUnreadable` (by default a warning line on stderr).
 */
export function readHistory(root: string, experiment: string, onUnreadable: OnUnreadable = warnUnreadable): RunRecord[] {
  const out: RunRecord[] = [];
  const now = Date.now();
  const expDir = path.join(root, checkSegment("experiment", experiment));
  for (const n of runNumbers(root, experiment)) {
    const r = readRecordIn(expDir, experiment, n, now);
    if (r.ok) out.push(r.record);
    // A folder made a moment ago may not have its record yet: that is a run starting, not damage.
    else if (!isFresh(path.dirname(r.file), now)) onUnreadable({ id: `${experiment}/${n}`, file: r.file, reason: r.reason });
  }
  return out;
}

function isFresh(dir: string, now: number): boolean {
  try {
    return now - fs.statSync(dir).mtimeMs < 5_000 && !fs.existsSync(path.join(dir, RUN_FILES.record));
  } catch {
    return false;
  }
}

/** The default report of an unreadable record: one line on stderr naming the run and what is wrong. */
export function warnUnreadable(u: Unreadable): void {
  console.warn(`labnote: skipped run ${u.id}: ${u.reason} (${u.file})`);
}

/** The experiments under a store root. */
export function listExperiments(root: string): string[] {
  try {
    return fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isExperimentFolder(d.name) && fs.existsSync(path.join(root, d.name, EXPERIMENT_FILE)))
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
