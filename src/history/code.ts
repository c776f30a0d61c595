/**
 * A run's code read from the store under a root: the session log and the blobs read with
 * node:fs, put together by the protocol's `codeOf`, so that `show`, `compare`, exp.compare, the
 * notebook/script export and the panel agree on what a run's code is.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { blobPath, codeOf, type CodeRecord, type RunCode } from "../protocol";
import { readSessionLog } from "./session";

export type { CodeCell, RunCode } from "../protocol";

/** The text of a blob of the store, or undefined when it is missing or unreadable. */
export function readBlobText(root: string, sha256: string): string | undefined {
  try {
    return fs.readFileSync(path.join(root, blobPath(sha256)), "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The code that made a run, in execution order: its lineage when the record has one and its
 * session's log is in the store, else the cells executed while it was open.
 * @example
 * const { source, cells } = runCode(root, record);   // source: "cells" for a record without lineage
 */
export function runCode(root: string, record: CodeRecord): RunCode {
  const log = record.lineage ? readSessionLog(root, record.lineage.session) : undefined;
  return codeOf(record, log, (sha) => readBlobText(root, sha));
}
