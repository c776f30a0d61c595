import * as fs from "node:fs";
import * as path from "node:path";
import { LEGACY_FOLDERS } from "../../protocol";

/**
 * Move a store's parts from the hidden folders older versions kept them in (`.blobs`,
 * `.sessions`, `.snapshots`, `.trash`) into `_labnote/`, where the browser can read them. Safe
 * when two processes do it at once (each entry is renamed, and one that is already there is
 * left); a store without old folders costs one `readdir`. Only writers call it.
 */
export function moveLegacyFolders(root: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return;
  }
  for (const [old, now] of LEGACY_FOLDERS) if (names.includes(old)) merge(path.join(root, old), path.join(root, now));
}

function merge(from: string, to: string): void {
  if (!fs.existsSync(to)) {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    try {
      fs.renameSync(from, to);
      return;
    } catch (e) {
      if (!fs.existsSync(to)) throw e;
    }
  }
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(from, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) merge(src, dst);
    else if (!fs.existsSync(dst)) {
      try {
        fs.renameSync(src, dst);
      } catch {
        /* another process moved it first */
      }
    }
  }
  try {
    fs.rmdirSync(from);
  } catch {
    /* not empty (same file in both): left for a person to look at */
  }
}
