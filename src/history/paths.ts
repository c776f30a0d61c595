/** Paths of the store on this machine, and where the command line finds a store. */
import * as fs from "node:fs";
import * as path from "node:path";
import { EXPERIMENT_FILE, LEGACY_FOLDERS, STORE_DIR, LabnoteError, didYouMean } from "../protocol";

/** The default store root, beside the notebook (the working directory); LABNOTE_DIR overrides. */
export function defaultRoot(): string {
  return process.env.LABNOTE_DIR || "experiments";
}

/** Join under `base` and prove the result stays inside it. */
export function inside(base: string, rel: string): string {
  const full = path.resolve(base, rel);
  const b = path.resolve(base);
  if (full !== b && !full.startsWith(b + path.sep))
    throw new LabnoteError("INVALID_NAME", `Invalid name ${JSON.stringify(rel)}`, `it resolves outside ${b}`);
  return full;
}

/** A store root found for a command, and how. */
export interface FoundRoot {
  /** Absolute path of the root. */
  root: string;
  /** `option`: --root; `env`: LABNOTE_DIR; `cwd`: ./experiments; `search`: an `experiments/` store in a subfolder. */
  how: "option" | "env" | "cwd" | "search";
  /** Other stores found as near as this one (search only). */
  others: string[];
}

/** Folders never searched for a store: packages, environments, hidden folders. */
const SKIP = new Set(["node_modules", ".venv", "venv", "__pycache__", "site-packages"]);
/** How deep below the working directory a store is looked for, and how many folders at most. */
export const SEARCH_DEPTH = 4;
const SEARCH_FOLDERS = 5000;

/** True when `dir` looks like a store: it holds an experiment (a folder with experiment.json) or blobs. */
export function looksLikeStore(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => e.isDirectory() && (e.name === STORE_DIR || e.name === LEGACY_FOLDERS[0][0] || (!e.name.startsWith(".") && fs.existsSync(path.join(dir, e.name, EXPERIMENT_FILE)))));
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A missing folder named by the user: what is there instead. */
function missingFolder(dir: string, named: string): LabnoteError {
  const parent = path.dirname(dir);
  let siblings: string[] = [];
  try {
    siblings = fs
      .readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => e.name)
      .sort();
  } catch {
    return new LabnoteError("NOT_FOUND", `No store at ${dir} (${named})`, `${parent} does not exist either`);
  }
  return new LabnoteError("NOT_FOUND", `No store at ${dir} (${named})`, `it does not exist; ${didYouMean(path.basename(dir), siblings, `folders in ${parent}`)}`);
}

/**
 * The store a command works on: `--root`, else `LABNOTE_DIR`, else `experiments/` in the
 * working directory, else the nearest `experiments/` store in a subfolder (breadth-first, at
 * most {@link SEARCH_DEPTH} levels, skipping node_modules, virtual environments and hidden
 * folders). Throws a NOT_FOUND error that says where it looked when there is none.
 * @example resolveRoot({ root: flags.root, env: process.env.LABNOTE_DIR, cwd: process.cwd() })
 */
export function resolveRoot(options: { root?: string; env?: string; cwd: string }): FoundRoot {
  const { cwd } = options;
  if (options.root !== undefined) {
    const root = path.resolve(cwd, options.root);
    if (!isDir(root)) throw missingFolder(root, "--root");
    return { root, how: "option", others: [] };
  }
  if (options.env) {
    const root = path.resolve(cwd, options.env);
    if (!isDir(root)) throw missingFolder(root, "LABNOTE_DIR");
    return { root, how: "env", others: [] };
  }
  const here = path.join(cwd, "experiments");
  if (isDir(here)) return { root: here, how: "cwd", others: [] };
  // Breadth-first: the shallowest store wins; others at the same depth are named.
  let level = [cwd];
  let seen = 0;
  for (let depth = 1; depth <= SEARCH_DEPTH && level.length && seen < SEARCH_FOLDERS; depth++) {
    const found: string[] = [];
    const next: string[] = [];
    for (const dir of level) {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (!e.isDirectory() || e.name.startsWith(".") || SKIP.has(e.name)) continue;
        const sub = path.join(dir, e.name);
        if (++seen > SEARCH_FOLDERS) break;
        const store = path.join(sub, "experiments");
        if (depth < SEARCH_DEPTH && isDir(store) && looksLikeStore(store)) found.push(store);
        if (e.name !== "experiments") next.push(sub);
      }
    }
    if (found.length) return { root: found[0], how: "search", others: found.slice(1) };
    level = next;
  }
  throw new LabnoteError(
    "NOT_FOUND",
    "No store found",
    `looked at --root (not given), LABNOTE_DIR (not set), ${here} (none), and for an experiments/ folder holding runs up to ${SEARCH_DEPTH - 1} levels below ${cwd}; pass --root DIR or set LABNOTE_DIR`,
  );
}
