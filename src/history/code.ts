/**
 * A run's code as it was executed: the cells that made it, with their source text read back
 * from the store's blobs. `show`, `compare`, exp.compare and the notebook/script export all
 * read a run's code through {@link runCode}, so that they agree on what a run's code is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { blobPath, type RunRecord } from "../protocol";

/** One executed cell of a run's code. */
export interface CodeCell {
  executionCount: number;
  /** The source text as executed; "" when its blob is missing from the store. */
  source: string;
  ok?: boolean;
  startTime: number;
  endTime?: number;
  notebook?: string;
}

/** A run's code: from its lineage (every cell of the session up to its end) or, for records without one, its own cells. */
export interface RunCode {
  source: "lineage" | "cells";
  cells: CodeCell[];
}

/** The text of a blob of the store, or undefined when it is missing or unreadable. */
export function readBlobText(root: string, sha256: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, blobPath(sha256)), "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The code that made a run, in execution order.
 * @example
 * const { source, cells } = runCode(root, record);   // source: "cells" for a record without lineage
 */
export function runCode(root: string, record: Pick<RunRecord, "cells">): RunCode {
  return {
    source: "cells",
    cells: record.cells.map((c) => {
      const cell: CodeCell = { executionCount: c.executionCount, source: readBlobText(root, c.sha256) ?? "", startTime: c.startTime };
      if (c.ok !== undefined) cell.ok = c.ok;
      if (c.endTime !== undefined) cell.endTime = c.endTime;
      if (c.notebook !== undefined) cell.notebook = c.notebook;
      return cell;
    }),
  };
}
