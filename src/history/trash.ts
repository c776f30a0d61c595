/** The runs in the store's trash (`labnote rm` put them there; `labnote restore` takes them back; `labnote gc` empties it). */
import * as fs from "node:fs";
import * as path from "node:path";
import { RUN_FILES, isRunFolder, parseRunRecord, trashPath, trashedRun, type TrashedRun } from "../protocol";

export type { TrashedRun };

function dirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

/** The trash folder of an experiment's runs. */
export function trashDir(root: string, experiment?: string): string {
  return path.join(root, trashPath(experiment));
}

/** Run numbers of `experiment` in the trash, ascending (the allocator never gives them out again). */
export function trashedRunNumbers(root: string, experiment: string): number[] {
  return dirs(trashDir(root, experiment))
    .filter(isRunFolder)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The file in an experiment's trash folder where gc keeps the largest number of the runs it removed. */
export const LAST_REMOVED_FILE = "last-removed";

/**
 * The largest number a removed run of `experiment` had (in the trash, or removed by gc); 0 when
 * none. The allocator starts above it, so that an id never names two different runs.
 */
export function lastRemovedNumber(root: string, experiment: string): number {
  const inTrash = trashedRunNumbers(root, experiment);
  let recorded = 0;
  try {
    recorded = Number.parseInt(fs.readFileSync(path.join(trashDir(root, experiment), LAST_REMOVED_FILE), "utf8"), 10) || 0;
  } catch {
    /* none removed by gc */
  }
  return Math.max(recorded, inTrash.length ? inTrash[inTrash.length - 1] : 0);
}

/** Every run in the trash, by experiment then number. */
export function trashedRuns(root: string): TrashedRun[] {
  const out: TrashedRun[] = [];
  for (const experiment of dirs(trashDir(root)).sort()) {
    for (const number of trashedRunNumbers(root, experiment)) {
      const run = trashedRun(experiment, number, path.join(root, trashPath(experiment, number)));
      try {
        const r = parseRunRecord(fs.readFileSync(path.join(run.dir, RUN_FILES.record), "utf8"));
        if (r.ok) run.record = r.record;
      } catch {
        /* no record: still a run folder to restore or remove */
      }
      out.push(run);
    }
  }
  return out;
}

/** The bytes and files under a path (a file or a folder, walked). */
export function diskUsage(p: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (q: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(q);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(q)) walk(path.join(q, e));
    } else {
      bytes += st.size;
      files++;
    }
  };
  walk(p);
  return { bytes, files };
}
