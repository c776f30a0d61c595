/**
 * A run's code as it was executed: the cells that made it, with their source text read back
 * from the store's blobs. `show`, `compare`, exp.compare and the notebook/script export all
 * read a run's code through {@link runCode}, so that they agree on what a run's code is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { blobPath, type RunRecord, type SessionHeader } from "../protocol";
import { readSessionLog } from "./session";

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
}

/** A run's code: from its lineage (every cell of the session up to its end) or, for records without one, its own cells. */
export interface RunCode {
  source: "lineage" | "cells";
  cells: CodeCell[];
  /** With `source: "lineage"`: the session log's header (its `from` says whether it starts at the session's first cell). */
  session?: SessionHeader;
}

/** The text of a blob of the store, or undefined when it is missing or unreadable. */
export function readBlobText(root: string, sha256: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, blobPath(sha256)), "utf8");
  } catch {
    return undefined;
  }
}

function codeCell(root: string, c: { executionCount: number; sha256: string; startTime: number; endTime?: number; ok?: boolean; error?: string; notebook?: string }): CodeCell {
  const cell: CodeCell = { executionCount: c.executionCount, source: readBlobText(root, c.sha256) ?? "", startTime: c.startTime, sha256: c.sha256 };
  if (c.ok !== undefined) cell.ok = c.ok;
  if (c.endTime !== undefined) cell.endTime = c.endTime;
  if (c.notebook !== undefined) cell.notebook = c.notebook;
  if (c.error !== undefined) cell.error = c.error;
  return cell;
}

/**
 * The code that made a run, in execution order: its lineage when the record has one and its
 * session's log is in the store, else the cells executed while it was open.
 * @example
 * const { source, cells } = runCode(root, record);   // source: "cells" for a record without lineage
 */
export function runCode(root: string, record: Pick<RunRecord, "cells"> & Partial<Pick<RunRecord, "lineage">>): RunCode {
  const lineage = record.lineage;
  if (lineage !== undefined) {
    const log = readSessionLog(root, lineage.session);
    if (log !== undefined && log.entries.length > 0) {
      const cells = log.entries.filter((e) => e.i < lineage.to).map((e) => codeCell(root, e));
      return log.header ? { source: "lineage", cells, session: log.header } : { source: "lineage", cells };
    }
  }
  return { source: "cells", cells: record.cells.map((c) => codeCell(root, c)) };
}
