/**
 * Which store a notebook's runs are in: the root its kernel reports (where runs are written),
 * else the panel's configured root (setting `root`, default `experiments`), both relative to
 * the notebook's folder like the kernel's default. One reader per store, shared by the panel
 * and the live models, so a record is fetched once for both.
 */
import { RunStore, storePath, type ContentsReader } from "./store";

/** The default store root, relative to the notebook's folder: the kernel's default. */
export const DEFAULT_ROOT = "experiments";

/** Where a notebook's store is, and its reader when the Jupyter server can reach it. */
export interface StoreLocation {
  /** The root as given (relative to the notebook's folder, or absolute). */
  root: string;
  /** Its path under the server root; undefined when it lies outside (the contents API cannot read it). */
  path?: string;
  store?: RunStore;
}

/** Finds and keeps the store readers. */
export class Stores {
  constructor(contents: ContentsReader) {
    this._contents = contents;
  }

  /** The configured root (from the settings), used until a kernel reports its own. */
  get root(): string {
    return this._root;
  }

  set root(root: string) {
    this._root = root.trim() || DEFAULT_ROOT;
  }

  /** The store of a notebook in `notebookDir` (server-relative) whose kernel reports `kernelRoot`, if it did. */
  locate(notebookDir: string, kernelRoot?: string): StoreLocation {
    const root = kernelRoot || this._root;
    const path = storePath(notebookDir, root);
    if (path === undefined) return { root };
    let store = this._stores.get(path);
    if (!store) this._stores.set(path, (store = new RunStore(this._contents, path)));
    return { root, path, store };
  }

  private _contents: ContentsReader;
  private _root = DEFAULT_ROOT;
  private _stores = new Map<string, RunStore>();
}
