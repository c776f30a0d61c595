/**
 * Writes an experiment's index (format in `protocol/experiment-index.ts`): a process that ends a
 * run appends the run's entry to the log with one O_APPEND write, so any number of processes
 * ending runs at once never lose a line; and when the log has grown (or the index is missing),
 * compacts index and log into a new index, repaired from the run folders.
 *
 * Compaction and appends never lose an entry to each other: the compactor first moves the log
 * aside (a rename) and only then reads it; an appender, after its write, checks that the file
 * it wrote to is still the log, and writes its line again to the new log when it is not (a
 * repeated entry is harmless: the newest wins).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { INDEX_FILES, indexHeader, indexLine, planIndexRead, recordJson, storeError, type IndexEntry, type RunRecord } from "../../protocol";
import { ROTATED_LOG, listRunFolders, readIndexFiles } from "../../history/experiment-index";
import { readAnnotations, readRunRecord } from "../../history/read";
import { warn } from "../../core/util/warn";
import { writeAtomicBy } from "./atomic";

/** The log is compacted into the index when it is larger than this and than a quarter of the index. */
export const LOG_COMPACT_BYTES = 256 * 1024;
/** A compaction lock older than this is taken to be left by a process that died. */
const LOCK_STALE_MS = 60_000;
const LOCK = ".index.lock";

let rotations = 0;

/**
 * Append the entry of the run in `runFolder` (its record as just written: at its start, so that
 * readers find a new run without listing every folder, and at its end) to its experiment's index
 * log, then (with `compact`) compact when the log has grown. The entry carries the folder's
 * modification time now: at the end it must be called once the folder holds everything the run wrote.
 * Never throws: the index is a cache, and a run must not fail for it (a warning says why).
 */
export function indexRun(runFolder: string, record: RunRecord, compact = true): void {
  const expDir = path.dirname(runFolder);
  try {
    const mtime = fs.statSync(runFolder).mtimeMs;
    appendLine(path.join(expDir, INDEX_FILES.log), indexLine(record, mtime, readAnnotations(runFolder), (v) => recordJson(v)));
    if (compact && needsCompaction(expDir)) compactIndex(expDir, record.experiment);
  } catch (e) {
    warn(`could not update the index of ${expDir} (${e instanceof Error ? e.message : String(e)}); readers read the run folders instead`);
  }
}

/** One line appended with one write; written again if a compaction moved the log meanwhile. */
function appendLine(log: string, line: string): void {
  const data = Buffer.from(line, "utf8");
  for (let tries = 0; tries < 10; tries++) {
    const fd = fs.openSync(log, "a");
    let same: boolean;
    try {
      const written = fs.writeSync(fd, data);
      if (written !== data.length) throw storeError("write", log, Object.assign(new Error(`short write (${written} of ${data.length} bytes)`), { code: "EIO" }));
      // Unlinked (nlink 0) or renamed away: a compaction took that file; its inode number may
      // even be reused already, so the link count is checked as well as the number.
      const st = fs.fstatSync(fd);
      try {
        same = st.nlink > 0 && fs.statSync(log).ino === st.ino;
      } catch {
        same = false;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (same) return;
  }
}

function size(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

function needsCompaction(expDir: string): boolean {
  const index = size(path.join(expDir, INDEX_FILES.index));
  if (index < 0) return true;
  const log = size(path.join(expDir, INDEX_FILES.log));
  return log > LOG_COMPACT_BYTES && log > index / 4;
}

/**
 * Rewrite the experiment's index from the index, its log and the run folders: one entry per run
 * folder present, re-read from the folder where it has none or the folder changed since. One
 * process compacts at a time (a lock file); a process that finds the lock taken leaves it to
 * the holder. Returns false when another process held the lock.
 */
export function compactIndex(expDir: string, experiment: string): boolean {
  const lock = path.join(expDir, LOCK);
  if (!takeLock(lock)) return false;
  try {
    const rotated = path.join(expDir, `.index-log.${process.pid}.${++rotations}.jsonl`);
    try {
      fs.renameSync(path.join(expDir, INDEX_FILES.log), rotated);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    // Logs moved aside by a compaction that died before it finished are read too.
    const aside = fs.readdirSync(expDir).filter((n) => ROTATED_LOG.test(n));
    const index = readIndexFiles(expDir, experiment, aside);
    const listed = listRunFolders(expDir);
    const plan = planIndexRead(listed, index?.ignored ? undefined : index);
    const entries: IndexEntry[] = [...plan.current];
    for (const f of plan.read) {
      const r = readRunRecord(path.dirname(expDir), experiment, f.number);
      // An unreadable or half-made run gets no entry: readers read its folder, and say why.
      if (!r.ok) continue;
      const annotations = readAnnotations(path.join(expDir, String(f.number)));
      entries.push({ number: f.number, mtime: f.mtime, record: r.record, ...(annotations ? { annotations } : {}) });
    }
    entries.sort((a, b) => a.number - b.number);
    const file = path.join(expDir, INDEX_FILES.index);
    writeAtomicBy(file, (write) => {
      write(indexHeader(experiment, Date.now()));
      for (const e of entries) write(indexLine(e.record, e.mtime, e.annotations, (v) => recordJson(v)));
    });
    for (const n of aside) fs.rmSync(path.join(expDir, n), { force: true });
    return true;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function takeLock(lock: string): boolean {
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs < LOCK_STALE_MS) return false;
        fs.rmSync(lock, { force: true });
      } catch {
        /* released meanwhile: try again */
      }
    }
  }
  return false;
}
