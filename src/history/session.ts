/**
 * Reading session logs and snapshot links from the store (never writing them): a run's lineage
 * and the notebook snapshots it belongs to.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SNAPSHOTS_DIR, isSessionId, parseSessionLog, parseSnapshotLinks, sessionLogPath, type ParsedSessionLog, type SnapshotLinks } from "../protocol";

/** A session's log under `root`, parsed; undefined when the store has no log of that session. */
export function readSessionLog(root: string, session: string): ParsedSessionLog | undefined {
  if (!isSessionId(session)) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, sessionLogPath(session)), "utf8");
  } catch {
    return undefined;
  }
  return parseSessionLog(text);
}

/** The snapshots whose links name `runId`, newest first: the snapshot file's path and its links. */
export function snapshotsOf(root: string, runId: string): Array<{ file: string; links: SnapshotLinks }> {
  const dir = path.join(root, SNAPSHOTS_DIR);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const found: Array<{ file: string; links: SnapshotLinks }> = [];
  for (const name of names) {
    if (!name.endsWith(".links.json")) continue;
    let links: SnapshotLinks | undefined;
    try {
      links = parseSnapshotLinks(fs.readFileSync(path.join(dir, name), "utf8"));
    } catch {
      continue;
    }
    if (links?.runs.includes(runId)) found.push({ file: path.join(dir, name.replace(/\.links\.json$/, ".ipynb")), links });
  }
  return found.sort((a, b) => b.links.time - a.links.time);
}
