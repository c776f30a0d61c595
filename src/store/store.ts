import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, storeError } from "../errors";
import { checkSegment } from "../util/names";
import { ensureDir, writeAtomic } from "./atomic";

/** The default store root, beside the notebook (the working directory); LABNOTE_DIR overrides. */
export function defaultRoot(): string {
  return process.env.LABNOTE_DIR || "experiments";
}

/**
 * The embedded store: plain files under one root.
 * ```
 * <root>/<experiment>/experiment.json
 * <root>/<experiment>/<number>/run.json, metrics.csv, output.log, env.json, sources.json, artifacts/…
 * <root>/.blobs/<sha256[0:2]>/<sha256>   sources and resources, stored once by content
 * ```
 */
export class FileStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  experimentDir(experiment: string): string {
    return path.join(this.root, checkSegment("experiment", experiment));
  }

  runDir(experiment: string, number: number): string {
    return path.join(this.experimentDir(experiment), String(number));
  }

  /** Create the experiment's folder; a clear error if the root cannot be written. */
  initExperiment(experiment: string, info: Record<string, unknown>): void {
    const dir = this.experimentDir(experiment);
    ensureDir(dir);
    writeAtomic(path.join(dir, "experiment.json"), JSON.stringify(info, null, 2) + "\n");
  }

  /** Run numbers present on disk, ascending. */
  runNumbers(experiment: string): number[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.experimentDir(experiment));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw storeError("read", this.experimentDir(experiment), e);
    }
    const out: number[] = [];
    for (const n of names) if (/^[1-9]\d*$/.test(n)) out.push(Number(n));
    return out.sort((a, b) => a - b);
  }

  /**
   * Allocate the next run number by creating its folder exclusively: `mkdir` either makes
   * the folder or fails with EEXIST, so two processes never get the same number.
   */
  allocateRun(experiment: string): { number: number; dir: string } {
    const expDir = this.experimentDir(experiment);
    let n = this.lastNumber.get(expDir);
    if (n === undefined) {
      ensureDir(expDir);
      const existing = this.runNumbers(experiment);
      n = existing.length ? existing[existing.length - 1] : 0;
    }
    // Other processes may have taken numbers since: the exclusive mkdir walks past them.
    n++;
    for (let tries = 0; tries < 100_000; tries++, n++) {
      const dir = path.join(expDir, String(n));
      try {
        fs.mkdirSync(dir);
        this.lastNumber.set(expDir, n);
        return { number: n, dir };
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

  private readonly lastNumber = new Map<string, number>();
  private readonly blobDirs = new Set<string>();

  blobPath(sha: string): string {
    return path.join(this.root, ".blobs", sha.slice(0, 2), sha);
  }

  /** Store bytes once by content hash; returns the hash. */
  putBlob(data: Uint8Array, sha = sha256(data)): string {
    const file = this.blobPath(sha);
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
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Copy a file while hashing it; returns size and sha256. */
export function copyHashed(src: string, dest: string): { size: number; sha256: string } {
  let data: Buffer;
  try {
    data = fs.readFileSync(src);
  } catch (e) {
    throw storeError("read", src, e);
  }
  ensureDir(path.dirname(dest));
  writeAtomic(dest, data);
  return { size: data.length, sha256: sha256(data) };
}
