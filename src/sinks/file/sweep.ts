/** Writing sweep records: a new number allocated create-exclusive, then atomic rewrites. */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, SWEEPS_DIR, checkSegment, storeError, sweepPath } from "../../protocol";
import { sweepNumbers } from "../../history/sweep";
import { ensureDir, writeAtomic } from "./atomic";

let counter = 0;

/**
 * Allocate the next sweep number of `experiment` and write its first record, `text(number)`.
 * The file appears whole (a hard link of a finished temporary file), and the link fails when
 * another process took the number first, so two processes never share a sweep.
 */
export function createSweepFile(root: string, experiment: string, text: (number: number) => string): number {
  const dir = path.join(root, checkSegment("experiment", experiment), SWEEPS_DIR);
  ensureDir(dir);
  const existing = sweepNumbers(root, experiment);
  let n = (existing.length ? existing[existing.length - 1] : 0) + 1;
  for (let tries = 0; tries < 10_000; tries++, n++) {
    const file = path.join(root, sweepPath(experiment, n));
    const tmp = path.join(dir, `.new.${process.pid}.${++counter}.tmp`);
    try {
      fs.writeFileSync(tmp, text(n));
      fs.linkSync(tmp, file);
      return n;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw storeError("write", file, e);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  throw new LabnoteError("STORE_WRITE", `Cannot allocate a sweep number in ${dir}`, "too many concurrent sweeps");
}

/** Rewrite sweep `number`'s record atomically. */
export function writeSweepFile(root: string, experiment: string, number: number, text: string): void {
  writeAtomic(path.join(root, sweepPath(checkSegment("experiment", experiment), number)), text);
}
