/**
 * `exp.exportNotebook()` in a kernel: the saved notebook file, outputs included, stored once by
 * its hash under `<root>/_labnote/snapshots/`, and beside it the links file naming the runs of this
 * kernel session under that root. The browser writes the same files; no run.json is touched.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, parseSnapshotLinks, redactIgnoredCells, snapshotPaths, type SnapshotLinks } from "../protocol";
import type { ExperimentInfo } from "../core/hooks";
import { sha256 } from "../core/util/hash";
import { ensureDir, writeAtomic } from "../sinks/file/atomic";
import type { SessionLog } from "./session";

/** Snapshot the notebook the kernel runs (or `options.path`) under `exp.root`; link this session's runs. */
export function exportNotebookSnapshot(session: SessionLog, exp: ExperimentInfo, options: { path?: string }): { snapshot: string; runs: string[] } {
  const root = exp.root;
  if (root === undefined) throw new LabnoteError("UNSUPPORTED", "Cannot export the notebook", "a ghost experiment writes nothing");
  const given = options.path;
  if (given !== undefined && (typeof given !== "string" || given === "")) throw new LabnoteError("INVALID_OPTION", "Cannot export the notebook", "path must be the notebook file's path");
  const file = given ?? session.notebook() ?? process.env.JPY_SESSION_NAME;
  if (!file) throw new LabnoteError("NOT_FOUND", "Cannot export the notebook", "the kernel does not know its notebook file (JupyterLab tells it); pass exportNotebook({ path: \"my.ipynb\" })");
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.resolve(file));
  } catch (e) {
    throw new LabnoteError("NOT_FOUND", `Cannot read the notebook ${file}`, `${(e as Error).message}; save it first (or pass exportNotebook({ path }))`);
  }
  try {
    JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new LabnoteError("INVALID_VALUE", `Cannot export ${file}`, "it is not a notebook (.ipynb JSON)");
  }
  // Cells marked `// labnote: ignore` stay out of the history, outputs included.
  const redacted = redactIgnoredCells(bytes.toString("utf8"));
  if (redacted !== undefined) bytes = Buffer.from(redacted, "utf8");
  const sha = sha256(bytes);
  const rel = snapshotPaths(sha);
  const snapshot = path.join(root, rel.notebook);
  const linksFile = path.join(root, rel.links);
  ensureDir(path.dirname(snapshot));
  if (!fs.existsSync(snapshot)) writeAtomic(snapshot, bytes);
  const runs = session.runsUnder(root);
  let links: SnapshotLinks | undefined;
  if (fs.existsSync(linksFile)) links = parseSnapshotLinks(fs.readFileSync(linksFile, "utf8"));
  const known = new Set(links?.runs ?? []);
  const added = runs.filter((r) => !known.has(r));
  if (links === undefined || added.length > 0) {
    const next: SnapshotLinks = links
      ? { ...links, runs: [...links.runs, ...added] }
      : { format: 1, notebook: path.resolve(file), session: session.id, time: Date.now(), runs };
    writeAtomic(linksFile, JSON.stringify(next, null, 1) + "\n");
    links = next;
  }
  return { snapshot, runs: [...links.runs] };
}
