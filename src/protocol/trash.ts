/**
 * The store's trash, as both halves see it: `labnote rm` and the dashboard move a run to
 * `<root>/<TRASH_DIR>/<experiment>/<number>/` (it keeps its number), `labnote restore` and the
 * dashboard bring it back, `labnote gc` empties it. Paths here are relative to the root and
 * `/`-separated; each side joins them to its root (node:path, or the contents API's PathExt).
 */
import { TRASH_DIR } from "./layout";
import type { RunRecord } from "./record";

/** A run in the trash. */
export interface TrashedRun {
  /** `<experiment>/<number>`, the id it had before it was trashed. */
  id: string;
  experiment: string;
  number: number;
  /** Its folder in the trash (on disk, or server-relative in the browser). */
  dir: string;
  /** Its record, when it can be read. */
  record?: RunRecord;
}

/**
 * The trash folder relative to the root: the whole trash, one experiment's part of it, or one
 * trashed run's folder.
 */
export function trashPath(experiment?: string, number?: number): string {
  if (experiment === undefined) return TRASH_DIR;
  return number === undefined ? `${TRASH_DIR}/${experiment}` : `${TRASH_DIR}/${experiment}/${number}`;
}

/** A trashed run (its record still to read), its folder being `dir`. */
export function trashedRun(experiment: string, number: number, dir: string): TrashedRun {
  return { id: `${experiment}/${number}`, experiment, number, dir };
}
