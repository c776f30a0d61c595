/**
 * A run's code as it was executed: the cells that made it, in execution order, with their
 * source text. Pure: the store's readers (node:fs in `history/code.ts`, the contents API in the
 * browser) read the session log and the blobs, and this module puts them together, so that the
 * command line, the notebook export and the panel agree on what a run's code is.
 */
import type { RunRecord } from "./record";
import type { ParsedSessionLog, SessionHeader } from "./session";

/** One executed cell of a run's code. */
export interface CodeCell {
  executionCount: number;
  /** The source text as executed; "" when its blob is missing from the store. */
  source: string;
  ok?: boolean;
  startTime: number;
  endTime?: number;
  notebook?: string;
  /** The sha256 of the source (the blob's name). */
  sha256?: string;
  /** What went wrong, for a cell that failed. */
  error?: string;
  /** True when the cell ran while the run was open (one of the record's `cells`). */
  during?: boolean;
}

/** A run's code: from its lineage (every cell of the session up to its end) or, for records without one, its own cells. */
export interface RunCode {
  source: "lineage" | "cells";
  cells: CodeCell[];
  /** With `source: "lineage"`: the session log's header (its `from` says whether it starts at the session's first cell). */
  session?: SessionHeader;
}

/** The part of a record a run's code is read from. */
export type CodeRecord = Pick<RunRecord, "cells"> & Partial<Pick<RunRecord, "lineage" | "startTime" | "endTime">>;

type Executed = { executionCount: number; sha256: string; startTime: number; endTime?: number; ok?: boolean; error?: string; notebook?: string };

function codeCell(c: Executed, text: (sha256: string) => string | undefined, during: boolean): CodeCell {
  const cell: CodeCell = { executionCount: c.executionCount, source: text(c.sha256) ?? "", startTime: c.startTime, sha256: c.sha256 };
  if (c.ok !== undefined) cell.ok = c.ok;
  if (c.endTime !== undefined) cell.endTime = c.endTime;
  if (c.notebook !== undefined) cell.notebook = c.notebook;
  if (c.error !== undefined) cell.error = c.error;
  if (during) cell.during = true;
  return cell;
}

/** True when the lineage applies: the record has one and its session's log has entries. */
function lineageEntries(record: CodeRecord, log: ParsedSessionLog | undefined): boolean {
  return record.lineage !== undefined && log !== undefined && log.entries.length > 0;
}

/**
 * The blobs a run's code needs (sha256s, each once): those of its lineage when its session's log
 * is given and applies, else those of its cells. A reader fetches these, then calls {@link codeOf}.
 */
export function codeBlobs(record: CodeRecord, log: ParsedSessionLog | undefined): string[] {
  const from = lineageEntries(record, log) ? log!.entries.filter((e) => e.i < record.lineage!.to) : record.cells;
  return [...new Set(from.map((c) => c.sha256))];
}

/**
 * The code that made a run, in execution order: its lineage when the record has one and its
 * session's `log` is given, else the cells executed while it was open. `text` gives a blob's text.
 * @example
 * const code = codeOf(record, parseSessionLog(logText), (sha) => blobs.get(sha));
 */
export function codeOf(record: CodeRecord, log: ParsedSessionLog | undefined, text: (sha256: string) => string | undefined): RunCode {
  const own = new Set(record.cells.map((c) => `${c.executionCount}:${c.sha256}:${c.startTime}`));
  if (lineageEntries(record, log)) {
    const to = record.lineage!.to;
    const cells = log!.entries
      .filter((e) => e.i < to)
      .map((e) => codeCell(e, text, own.has(`${e.executionCount}:${e.sha256}:${e.startTime}`) || ranDuring(record, e)));
    return log!.header ? { source: "lineage", cells, session: log!.header } : { source: "lineage", cells };
  }
  return { source: "cells", cells: record.cells.map((c) => codeCell(c, text, true)) };
}

/** True when a session entry ran while the run was open (its record's times bracket it). */
function ranDuring(record: CodeRecord, e: { startTime: number; endTime?: number }): boolean {
  if (record.startTime === undefined) return false;
  const end = record.endTime ?? Number.POSITIVE_INFINITY;
  return (e.endTime ?? e.startTime) >= record.startTime && e.startTime <= end;
}
