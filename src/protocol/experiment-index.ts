/**
 * The experiment index: each run's summary (what a runs table needs) in one or two files of the
 * experiment's folder, so the browser loads 10,000 runs in a couple of requests instead of one
 * request per `run.json`.
 * ```
 * <root>/<experiment>/index.jsonl       the compacted index: a header line, then one entry per run (rewritten atomically)
 * <root>/<experiment>/index-log.jsonl   entries appended since (each line one O_APPEND write)
 * ```
 * An entry is one line: `{"run":3,"mtime":1764642463123.45,"record":{…},"annotations":{…}}` —
 * the run's record without its long lists (artifacts, resources, cells but the first,
 * metadata) and without the fields the reader puts back (format 2: see `compactRecord`), with
 * its annotations merged, the annotations themselves when it has any, and
 * `mtime`, the run folder's modification time (ms) when the entry was made. A later line for
 * the same run replaces an earlier one.
 *
 * The index is a cache, never trusted over the run folders: a reader takes an entry only for a
 * run folder that exists and has not changed since (its modification time is not newer than the
 * entry's); any other folder's `run.json` is read as before. A missing index, a torn last line
 * or a line that is not JSON costs speed, never a run. Readers never write it; the process that
 * ends a run appends its entry and now and then compacts the two files into one.
 */
import { parseAnnotations, withAnnotations, type Annotations } from "./annotations";
import { isPlainObject } from "./json";
import { parseRunRecord, type RunRecord } from "./record";
import { startCell } from "./session";

/** The index files of an experiment's folder (never a run folder's name: those are numbers). */
export const INDEX_FILES = {
  /** The compacted index. */
  index: "index.jsonl",
  /** Entries appended since the last compaction. */
  log: "index-log.jsonl",
} as const;

/** The index format this version writes; a reader ignores a newer one (and reads the run folders). */
export const INDEX_FORMAT = 2;

/** One run's entry: its summary record (annotations merged, status as written) and the folder's mtime it describes. */
export interface IndexEntry {
  number: number;
  /** The run folder's modification time (ms, with its fraction) when the entry was made. */
  mtime: number;
  /** Its summary record, annotations merged. */
  record: RunRecord;
  /** Its annotations, when it has any (so an editor knows which tags a person added). */
  annotations?: Annotations;
}

/** An index read from its text: the good entries by run number, and the lines that could not be used. */
export interface ParsedIndex {
  entries: Map<number, IndexEntry>;
  /** Lines that were torn or not valid entries (a crash while appending, a bad edit). */
  damaged: number;
  /** Why the whole file was ignored (a newer format), if it was. */
  ignored?: string;
}

/**
 * A record cut down to what a runs table shows: the long lists go (artifacts, resources,
 * metadata, the result and the error's stack), the cell that started the run stays (its
 * notebook and execution count are the table's "from"). The record given is not changed.
 */
export function summaryRecord(record: RunRecord): RunRecord {
  const cell = startCell(record);
  const out: RunRecord = { ...record, artifacts: [], resources: [], cells: cell ? [cell] : [], metadata: {} };
  delete out.result;
  if (out.error) out.error = { name: out.error.name, message: out.error.message.slice(0, 2000) };
  return out;
}

/**
 * A summary as an index line holds it: without what the line or the reader already knows
 * (`format`, `id`, `experiment`, `number`) and without fields that hold their default (empty
 * lists, empty metadata, a zero seed, an empty host name; an ended run's heartbeat and pid,
 * which only the died rule of a running run reads). The record parser puts every one back, so
 * a line is a third smaller and 10,000 of them parse that much sooner.
 */
function compactRecord(record: RunRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { ...record };
  for (const k of ["format", "id", "experiment", "number"]) delete out[k];
  for (const [k, v] of Object.entries(out)) {
    if (Array.isArray(v) && v.length === 0) delete out[k];
    else if (k === "metadata" && isPlainObject(v) && Object.keys(v).length === 0) delete out[k];
  }
  if (record.seed === 0) delete out.seed;
  if (record.hostname === "") delete out.hostname;
  if (record.status !== "running") {
    delete out.heartbeat;
    delete out.pid;
  }
  return out;
}

/** The header line of a compacted index. */
export function indexHeader(experiment: string, time: number): string {
  return JSON.stringify({ labnote: "index", format: INDEX_FORMAT, experiment, time }) + "\n";
}

/**
 * One entry as a line of the index: `record` summarized (see {@link summaryRecord}) with
 * `annotations` merged, written as `recordJson` writes records (`json` is that function, so
 * non-finite numbers travel as strings exactly as in run.json).
 */
export function indexLine(record: RunRecord, mtime: number, annotations: Annotations | undefined, json: (v: unknown) => string): string {
  const rec = json(compactRecord(summaryRecord(withAnnotations(record, annotations))));
  return `{"run":${record.number},"mtime":${mtime},"record":${rec}${annotations ? `,"annotations":${JSON.stringify(annotations)}` : ""}}\n`;
}

/**
 * Read index text (a compacted index, a log, or both joined). Never throws: a torn or bad line
 * is counted in `damaged` and skipped; an entry of another experiment is skipped; for a run
 * with several entries the one with the newest `mtime` wins (the later line on a tie).
 */
export function parseIndex(text: string, experiment: string, into: ParsedIndex = { entries: new Map(), damaged: 0 }): ParsedIndex {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    const torn = end < 0;
    if (torn) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === "") continue;
    // A last line without its newline is an append cut short: never half-trusted.
    if (torn) {
      into.damaged++;
      break;
    }
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      into.damaged++;
      continue;
    }
    if (!isPlainObject(v)) {
      into.damaged++;
      continue;
    }
    if (v.labnote === "index") {
      if (typeof v.format === "number" && v.format > INDEX_FORMAT) {
        into.entries.clear();
        into.ignored = `the index has format ${v.format}, newer than this labnote reads (${INDEX_FORMAT})`;
        return into;
      }
      continue;
    }
    const number = v.run;
    const mtime = v.mtime;
    if (typeof number !== "number" || !Number.isInteger(number) || number < 1 || typeof mtime !== "number") {
      into.damaged++;
      continue;
    }
    // A line leaves out what it and the reader know (see compactRecord); an older line has them.
    const raw = v.record;
    if (isPlainObject(raw)) {
      raw.experiment ??= experiment;
      raw.number ??= number;
    }
    const parsed = parseRunRecord(raw);
    if (!parsed.ok || parsed.record.number !== number || parsed.record.experiment !== experiment) {
      into.damaged++;
      continue;
    }
    const before = into.entries.get(number);
    if (before && before.mtime > mtime) continue;
    const entry: IndexEntry = { number, mtime, record: parsed.record };
    const a = v.annotations === undefined ? undefined : parseAnnotations(v.annotations);
    if (a?.ok) entry.annotations = a.value;
    into.entries.set(number, entry);
  }
  return into;
}

/** A run folder as a listing shows it: its number and modification time (ms). */
export interface ListedRun {
  number: number;
  mtime: number;
}

/** What a reader does with each run folder: take the index's entry, or read the folder. */
export interface IndexPlan {
  /** Folders whose entry is current, with it. */
  current: IndexEntry[];
  /** Folders with no entry, or changed since theirs (read their run.json and annotations). */
  read: ListedRun[];
}

/** Whether an entry still describes its run folder, last modified at `mtime` (ms; `slack` as in {@link planIndexRead}). */
export function entryCurrent(entry: IndexEntry, mtime: number, slack = 0): boolean {
  return !(mtime > entry.mtime + slack);
}

/**
 * Split the listed run folders into those the index describes as they are now and those to
 * read. An entry counts only for a folder that exists (a run moved to the trash is gone, whatever
 * the index says) and is not older than the folder. `slack` (ms) absorbs a listing's rounding of
 * the time: the browser's listing gives milliseconds of a microsecond time, so it passes 1.
 */
export function planIndexRead(listed: readonly ListedRun[], index: ParsedIndex | undefined, slack = 0): IndexPlan {
  const current: IndexEntry[] = [];
  const read: ListedRun[] = [];
  for (const f of listed) {
    const e = index?.entries.get(f.number);
    if (e && entryCurrent(e, f.mtime, slack)) current.push(e);
    else read.push(f);
  }
  return { current, read };
}
