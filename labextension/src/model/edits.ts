/**
 * What the dashboard changes in the store, through the Jupyter contents API: a run's notes and
 * tags (its `annotations.json`, never its `run.json`, which a kernel may be rewriting), and
 * moving runs to the store's trash and back (the same places as `labnote rm` and `labnote
 * restore`, so the command line sees the same trash). A run in the trash keeps its number: the
 * kernel's allocator counts the trash's numbers as taken.
 */
import { PathExt } from "@jupyterlab/coreutils";
import type { Contents } from "@jupyterlab/services";
import {
  ANNOTATIONS_FILE,
  LabnoteError,
  RUN_FILES,
  annotationsJson,
  isRunFolder,
  parseAnnotations,
  parseRunRecord,
  trashPath,
  trashedRun,
  type Annotations,
  type TrashedRun,
} from "../protocol";
import { readFailure, readText, type ContentsReader, type HistoryRun } from "./store";

/** The part of the contents manager the editor uses. */
export interface ContentsWriter extends ContentsReader {
  save(path: string, options?: Partial<Contents.IModel>): Promise<Contents.IModel>;
  rename(path: string, newPath: string): Promise<Contents.IModel>;
}

export type { TrashedRun };

/** Changes one store (a root relative to the server root). */
export class StoreEditor {
  constructor(contents: ContentsWriter, root: string) {
    this._contents = contents;
    this.root = root;
  }

  readonly root: string;

  /**
   * Write a run's notes and tags (the tags a person adds; the record's own stay). Throws a
   * LabnoteError for a bad tag or notes too long, and when the server refuses the write.
   */
  async annotate(run: Pick<HistoryRun, "dir" | "id">, notes: string, tags: readonly string[], now = Date.now()): Promise<Annotations> {
    const text = annotationsJson({ notes, tags, time: now });
    const file = PathExt.join(run.dir, ANNOTATIONS_FILE);
    try {
      await this._contents.save(file, { type: "file", format: "text", content: text });
    } catch (e) {
      throw new LabnoteError("STORE_WRITE", `Cannot save the notes of run ${run.id}`, readFailure(e).message);
    }
    const parsed = parseAnnotations(text);
    if (!parsed.ok) throw new LabnoteError("STORE_WRITE", `Cannot save the notes of run ${run.id}`, parsed.reason);
    return parsed.value;
  }

  /** A run's annotations as they are on disk now (another page may have changed them). */
  async annotations(run: Pick<HistoryRun, "dir">): Promise<Annotations | undefined> {
    const text = await readText(this._contents, PathExt.join(run.dir, ANNOTATIONS_FILE));
    const p = text === undefined ? undefined : parseAnnotations(text);
    return p?.ok ? p.value : undefined;
  }

  /**
   * Move runs to the trash (`<root>/<TRASH_DIR>/<experiment>/<number>`). A run still running is
   * refused, as `labnote rm` refuses it; so is a run whose number the trash already holds.
   */
  async trash(runs: readonly HistoryRun[]): Promise<void> {
    for (const run of runs) {
      if (run.record.status === "running")
        throw new LabnoteError("UNSUPPORTED", `Cannot delete run ${run.id}`, "it is running; end it (or stop its kernel) first, or wait until it shows as died");
    }
    for (const run of runs) {
      const dest = PathExt.join(this.root, trashPath(run.record.experiment, run.record.number));
      if (await this._exists(dest))
        throw new LabnoteError("UNSUPPORTED", `Cannot delete run ${run.id}`, "the trash already holds a run of that number; run labnote gc to empty the trash first");
      await this._folders(PathExt.dirname(dest));
      try {
        await this._contents.rename(run.dir, dest);
      } catch (e) {
        throw new LabnoteError("STORE_WRITE", `Cannot delete run ${run.id}`, readFailure(e).message);
      }
    }
  }

  /** Runs in the trash, by experiment then number (their records read, a few at a time). */
  async trashed(): Promise<TrashedRun[]> {
    const out: TrashedRun[] = [];
    for (const exp of (await this._dirs(PathExt.join(this.root, trashPath()))).sort()) {
      const numbers = (await this._dirs(PathExt.join(this.root, trashPath(exp)))).filter(isRunFolder).map(Number).sort((a, b) => a - b);
      await Promise.all(
        numbers.map(async (number) => {
          const run = trashedRun(exp, number, PathExt.join(this.root, trashPath(exp, number)));
          // A folder without a record is still a run to restore.
          const text = await readText(this._contents, PathExt.join(run.dir, RUN_FILES.record));
          const r = text === undefined ? undefined : parseRunRecord(text);
          if (r?.ok) run.record = r.record;
          out.push(run);
        }),
      );
    }
    return out.sort((a, b) => (a.experiment === b.experiment ? a.number - b.number : a.experiment < b.experiment ? -1 : 1));
  }

  /** Bring a run back from the trash to its experiment, under its own number. */
  async restore(run: Pick<TrashedRun, "id" | "experiment" | "number" | "dir">): Promise<void> {
    const dest = PathExt.join(this.root, run.experiment, String(run.number));
    if (await this._exists(dest)) throw new LabnoteError("UNSUPPORTED", `Cannot restore run ${run.id}`, `${dest} exists already`);
    await this._folders(PathExt.dirname(dest));
    try {
      await this._contents.rename(run.dir, dest);
    } catch (e) {
      throw new LabnoteError("STORE_WRITE", `Cannot restore run ${run.id}`, readFailure(e).message);
    }
  }

  private async _exists(path: string): Promise<boolean> {
    try {
      await this._contents.get(path, { content: false });
      return true;
    } catch (e) {
      if (readFailure(e).missing) return false;
      throw e;
    }
  }

  /** Make a folder and its parents under the root (the contents API makes one level at a time). */
  private async _folders(path: string): Promise<void> {
    const below = this.root ? PathExt.relative(`/${this.root}`, `/${path}`) : path;
    let cur = this.root;
    for (const part of below.split("/").filter(Boolean)) {
      cur = PathExt.join(cur, part);
      if (!(await this._exists(cur))) await this._contents.save(cur, { type: "directory" });
    }
  }

  private async _dirs(path: string): Promise<string[]> {
    try {
      const m = await this._contents.get(path, { content: true, type: "directory" });
      return Array.isArray(m.content) ? (m.content as Contents.IModel[]).filter((e) => e.type === "directory").map((e) => e.name) : [];
    } catch {
      return [];
    }
  }

  private readonly _contents: ContentsWriter;
}
