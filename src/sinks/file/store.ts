import * as fs from "node:fs";
import * as path from "node:path";
import { EXPERIMENT_FILE, LabnoteError, blobPath, checkSegment, storeError } from "../../protocol";
import { readSource, type ExperimentStorage, type RunStorage } from "../../core/storage";
import { sha256 } from "../../core/util/hash";
import { inside } from "../../history/paths";
import { runNumbers } from "../../history/read";
import { lastRemovedNumber } from "../../history/trash";
import { ensureDir, writeAtomic } from "./atomic";
import { moveLegacyFolders } from "./legacy";
import { FileSink } from "./sink";

/**
 * The embedded store: plain files under one root (layout in `protocol/layout.ts`). Run numbers
 * are allocated by creating the run's folder exclusively, so any number of processes can share
 * a root; blobs are stored once by content hash.
 */
export class FileStore implements ExperimentStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    moveLegacyFolders(this.root);
  }

  /** The folder of an experiment (its name checked: it never leaves the root). */
  experimentDir(experiment: string): string {
    return path.join(this.root, checkSegment("experiment", experiment));
  }

  describe(experiment: string, info: Record<string, unknown>, keep: boolean): void {
    const dir = this.experimentDir(experiment);
    const file = path.join(dir, EXPERIMENT_FILE);
    if (keep && fs.existsSync(file)) return;
    ensureDir(dir);
    writeAtomic(file, JSON.stringify(info, null, 2) + "\n");
  }

  /**
   * Allocate the next run number by creating its folder exclusively: `mkdir` either makes the
   * folder or fails with EEXIST, so two processes never get the same number.
   */
  allocateRun(experiment: string): { number: number; storage: RunStorage } {
    const expDir = this.experimentDir(experiment);
    let n = this.lastNumber.get(expDir);
    if (n === undefined) {
      ensureDir(expDir);
      // Numbers of removed runs stay taken: a run restored finds its number free, and an id
      // never names two different runs.
      const existing = runNumbers(this.root, experiment);
      n = Math.max(existing.length ? existing[existing.length - 1] : 0, lastRemovedNumber(this.root, experiment));
    }
    // Other processes may have taken numbers since: the exclusive mkdir walks past them.
    n++;
    for (let tries = 0; tries < 100_000; tries++, n++) {
      const dir = path.join(expDir, String(n));
      try {
        fs.mkdirSync(dir);
        this.lastNumber.set(expDir, n);
        return { number: n, storage: new FileRunStorage(dir, this) };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" && !fs.existsSync(expDir)) {
          ensureDir(expDir); // the experiment's folder was removed under us
          n--;
          continue;
        }
        if (code !== "EEXIST") throw storeError("write", dir, e);
      }
    }
    throw new LabnoteError("STORE_WRITE", `Cannot allocate a run number in ${expDir}`, "too many concurrent runs");
  }

  hasBlob(sha: string): boolean {
    return fs.existsSync(path.join(this.root, blobPath(sha)));
  }

  putBlob(data: Uint8Array, sha = sha256(data)): string {
    const file = path.join(this.root, blobPath(sha));
    if (!fs.existsSync(file)) {
      const dir = path.dirname(file);
      if (!this.blobDirs.has(dir)) {
        ensureDir(dir);
        this.blobDirs.add(dir);
      }
      writeAtomic(file, data);
    }
    return sha;
  }

  private readonly lastNumber = new Map<string, number>();
  private readonly blobDirs = new Set<string>();
}

/** One run's folder. */
class FileRunStorage implements RunStorage {
  readonly dir: string;
  readonly sink: FileSink;

  constructor(dir: string, store: FileStore) {
    this.dir = dir;
    this.store = store;
    this.sink = new FileSink(dir);
  }

  hasBlob(sha: string): boolean {
    return this.store.hasBlob(sha);
  }
  putBlob(data: Uint8Array, sha?: string): string {
    return this.store.putBlob(data, sha);
  }
  writeFile(rel: string, data: Uint8Array): void {
    const file = inside(this.dir, rel);
    ensureDir(path.dirname(file));
    writeAtomic(file, data);
  }
  copyIn(source: string, rel: string): { size: number; sha256: string } {
    const data = readSource(source);
    this.writeFile(rel, data);
    return { size: data.length, sha256: sha256(data) };
  }
  readFile(rel: string): Buffer {
    const file = inside(this.dir, rel);
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw storeError("read", file, e);
    }
  }
  exists(rel: string): boolean {
    return fs.existsSync(inside(this.dir, rel));
  }

  private readonly store: FileStore;
}
