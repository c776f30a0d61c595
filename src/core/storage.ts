/**
 * What the core asks of a store. The core never touches the store's files itself: an experiment
 * is handed an {@link ExperimentStorage} (the file store, by default) and each run a
 * {@link RunStorage}; a ghost experiment gets memory that writes nothing.
 */
import * as fs from "node:fs";
import { LabnoteError, storeError } from "../protocol";
import type { BlobStore } from "./blobs";
import type { RunSink } from "./events";

export type { BlobStore };
import { sha256 } from "./util/hash";

/** One run's files. */
export interface RunStorage extends BlobStore {
  /** The run's folder, or undefined when nothing is written (a ghost run). */
  readonly dir: string | undefined;
  /** The sink that writes the run itself (record, metrics, output), if the storage writes. */
  readonly sink: RunSink | undefined;
  /** Write a file of the run atomically (`rel` is checked: it never leaves the run's folder). */
  writeFile(rel: string, data: Uint8Array): void;
  /** Copy a file into the run, hashing it on the way. */
  copyIn(source: string, rel: string): { size: number; sha256: string };
  /** Read a file of the run. */
  readFile(rel: string): Buffer;
  /** True when the run has a file at `rel`. */
  exists(rel: string): boolean;
}

/** An experiment's store: its description, run numbers, and blobs. */
export interface ExperimentStorage extends BlobStore {
  /** Absolute path of the store root. */
  readonly root: string;
  /** Write the experiment's description; `keep` leaves an existing one as it is. */
  describe(experiment: string, info: Record<string, unknown>, keep: boolean): void;
  /** Allocate the next run number (safe across processes) and the run's storage. */
  allocateRun(experiment: string): { number: number; storage: RunStorage };
  /** Allocate the next sweep number (safe across processes) and write its first record, `text(number)`. */
  createSweep?(experiment: string, text: (number: number) => string): number;
  /** Rewrite a sweep's record atomically. */
  writeSweep?(experiment: string, number: number, text: string): void;
}

/** Read a file the user named (to copy into a run), with an error that says what and where. */
export function readSource(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw storeError("read", file, e);
  }
}

/** Storage that keeps a run's files in memory and writes nothing: ghost runs. */
export class MemoryRunStorage implements RunStorage {
  readonly dir = undefined;
  readonly sink = undefined;
  private readonly files = new Map<string, Buffer>();

  hasBlob(): boolean {
    return false;
  }
  putBlob(data: Uint8Array, sha = sha256(data)): string {
    return sha;
  }
  writeFile(rel: string, data: Uint8Array): void {
    this.files.set(rel, Buffer.from(data));
  }
  copyIn(source: string, rel: string): { size: number; sha256: string } {
    const data = readSource(source);
    this.files.set(rel, data);
    return { size: data.length, sha256: sha256(data) };
  }
  readFile(rel: string): Buffer {
    const data = this.files.get(rel);
    if (!data) throw new LabnoteError("NOT_FOUND", `No artifact file ${rel}`, "it was not saved in this ghost run");
    return data;
  }
  exists(rel: string): boolean {
    return this.files.has(rel);
  }
}
