/**
 * Reading an experiment's index (format in `protocol/experiment-index.ts`) beside its run
 * folders: the entries of runs whose folder has not changed since, the records of the others
 * read from their folders. Never writes: a stale or damaged index is only read around.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { INDEX_FILES, checkSegment, isRunFolder, parseIndex, planIndexRead, withEffectiveStatus, type ListedRun, type ParsedIndex, type RunRecord } from "../protocol";
import { processAlive, readRunRecord, warnUnreadable, type OnUnreadable } from "./read";

/** Rotated logs a compaction is reading (hidden, so the browser's listing never shows them). */
export const ROTATED_LOG = /^\.index-log\..+\.jsonl$/;

/** The index files of the experiment folder `expDir`, parsed together; undefined when it has none. */
export function readIndexFiles(expDir: string, experiment: string, extra: readonly string[] = []): ParsedIndex | undefined {
  let found = false;
  const parsed: ParsedIndex = { entries: new Map(), damaged: 0 };
  for (const name of [INDEX_FILES.index, ...extra, INDEX_FILES.log]) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(expDir, name), "utf8");
    } catch {
      continue;
    }
    found = true;
    parseIndex(text, experiment, parsed);
    if (parsed.ignored) return parsed;
  }
  return found ? parsed : undefined;
}

/** The run folders of `expDir` with their modification times (ms), ascending by number. */
export function listRunFolders(expDir: string): ListedRun[] {
  let names: string[];
  try {
    names = fs.readdirSync(expDir);
  } catch {
    return [];
  }
  const out: ListedRun[] = [];
  for (const n of names) {
    if (!isRunFolder(n)) continue;
    try {
      out.push({ number: Number(n), mtime: fs.statSync(path.join(expDir, n)).mtimeMs });
    } catch {
      /* moved away while listing */
    }
  }
  return out.sort((a, b) => a.number - b.number);
}

/** An experiment's history read through its index, and how much the index answered. */
export interface IndexedHistory {
  /** Every readable run's summary record (annotations merged, status by the died rule), oldest first. */
  records: RunRecord[];
  /** Runs answered by the index. */
  fromIndex: number;
  /** Runs whose folder was read (no entry, or changed since). */
  read: number;
  /** Index lines that could not be used. */
  damaged: number;
}

/**
 * An experiment's runs as summaries (records without their long lists, see `summaryRecord`):
 * from the index where it is current, from the run folders elsewhere. What `labnote ls` and
 * every table need; a command that needs a run's artifacts or cells reads its record.
 */
export function readIndexedHistory(root: string, experiment: string, onUnreadable: OnUnreadable = warnUnreadable): IndexedHistory {
  const expDir = path.join(root, checkSegment("experiment", experiment));
  const now = Date.now();
  const index = readIndexFiles(expDir, experiment);
  const plan = planIndexRead(listRunFolders(expDir), index);
  const records: RunRecord[] = plan.current.map((e) => withEffectiveStatus(e.record, { now, alive: e.record.status === "running" ? processAlive(e.record) : undefined }));
  for (const f of plan.read) {
    const r = readRunRecord(root, experiment, f.number, now);
    if (r.ok) records.push(r.record);
    else if (now - f.mtime > 5_000) onUnreadable({ id: `${experiment}/${f.number}`, file: r.file, reason: r.reason });
  }
  records.sort((a, b) => a.number - b.number);
  return { records, fromIndex: plan.current.length, read: plan.read.length, damaged: index?.damaged ?? 0 };
}
