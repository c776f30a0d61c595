import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { redactIgnoredCells } from "../../protocol";
import type { BlobStore } from "../blobs";
import { sha256 } from "../util/hash";

export interface SourceEntry {
  /** Path relative to the project folder, with forward slashes. */
  path: string;
  sha256: string;
  size: number;
}

const EXTENSIONS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json", ".ipynb"]);
const SKIP_DIRS = new Set(["node_modules", "__pycache__"]);
const MAX_FILE = 2 * 1024 * 1024;
const MAX_FILES = 5000;

interface Cached {
  size: number;
  mtimeMs: number;
  sha256: string;
}
/**
 * In a git repository, the files git tracks or would track (`.gitignore` respected: build
 * output is not source). Undefined outside a repository or without git.
 */
function gitListed(dir: string): string[] | undefined {
  try {
    const out = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: dir, stdio: ["ignore", "pipe", "ignore"], timeout: 10_000, maxBuffer: 64 * 1024 * 1024 });
    return [...new Set(out.toString("utf8").split("\0").filter(Boolean))];
  } catch {
    return undefined;
  }
}

/** Hashes of files already seen in this process, keyed by absolute path. */
const hashCache = new Map<string, Cached>();

/**
 * Record the project's sources (`.ts`, `.js`, `.json`, notebooks) under `projectDir`, skipping
 * `node_modules`, hidden folders (`.git`, `.venv`), the store root and, in a git repository,
 * what `.gitignore` ignores; each file's content is
 * stored once in the store's blobs. Unchanged files are not read again (size + mtime cache).
 */
export function captureSources(projectDir: string, root: string, store: BlobStore): { files: SourceEntry[]; skipped: string[] } {
  const files: SourceEntry[] = [];
  const skipped: string[] = [];
  const take = (full: string): void => {
    if (files.length >= MAX_FILES) {
      skipped.push(path.relative(projectDir, full));
      return;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(full);
    } catch {
      return;
    }
    if (!st.isFile()) return;
    const rel = path.relative(projectDir, full).split(path.sep).join("/");
    if (st.size > MAX_FILE) {
      skipped.push(rel);
      return;
    }
    const hit = hashCache.get(full);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && store.hasBlob(hit.sha256)) {
      files.push({ path: rel, sha256: hit.sha256, size: st.size });
      return;
    }
    let data: Buffer;
    try {
      data = fs.readFileSync(full);
    } catch {
      return;
    }
    // A notebook's cells marked `// labnote: ignore` stay out of the history.
    if (full.endsWith(".ipynb")) {
      const redacted = redactIgnoredCells(data.toString("utf8"));
      if (redacted !== undefined) data = Buffer.from(redacted, "utf8");
    }
    const sha = store.putBlob(data, sha256(data));
    hashCache.set(full, { size: st.size, mtimeMs: st.mtimeMs, sha256: sha });
    files.push({ path: rel, sha256: sha, size: st.size });
  };
  const listed = gitListed(projectDir);
  if (listed) {
    for (const rel of listed) {
      const parts = rel.split("/");
      if (!EXTENSIONS.has(path.extname(rel)) || parts.some((p, i) => (i < parts.length - 1 && (p.startsWith(".") || SKIP_DIRS.has(p))))) continue;
      if (parts[parts.length - 1] === "package-lock.json") continue;
      const full = path.join(projectDir, rel);
      if (full === root || full.startsWith(root + path.sep)) continue;
      take(full);
    }
    return { files, skipped };
  }
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name.startsWith(".") || SKIP_DIRS.has(e.name) || full === root) continue;
        walk(full);
      } else if (e.isFile() && EXTENSIONS.has(path.extname(e.name)) && e.name !== "package-lock.json") take(full);
    }
  };
  walk(path.resolve(projectDir));
  return { files, skipped };
}
