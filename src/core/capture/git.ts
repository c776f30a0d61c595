import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface GitInfo {
  root: string;
  commit?: string;
  branch?: string;
  remote?: string;
  /** Filled in when `git status` answers; undefined if git is not installed. */
  dirty?: boolean;
}

/** The repository folder containing `dir`, if any. */
export function findGitRoot(dir: string): string | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(path.join(cur, ".git"))) return cur;
    const up = path.dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

function gitDir(root: string): string {
  const dotgit = path.join(root, ".git");
  try {
    if (fs.statSync(dotgit).isFile()) {
      const m = /gitdir:\s*(.+)/.exec(fs.readFileSync(dotgit, "utf8"));
      if (m) return path.resolve(root, m[1].trim());
    }
  } catch {
    /* fall through */
  }
  return dotgit;
}

function readRef(dir: string, ref: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, ref), "utf8").trim();
  } catch {
    /* maybe packed */
  }
  try {
    for (const line of fs.readFileSync(path.join(dir, "packed-refs"), "utf8").split("\n")) {
      const [sha, name] = line.split(" ");
      if (name === ref) return sha;
    }
  } catch {
    /* no packed refs */
  }
  return undefined;
}

/**
 * Commit, branch and remote read straight from `.git` (fast, no process), and `dirty` from
 * `git status` in the background: the promise resolves when that answers.
 */
export function gitInfo(dir: string): { info: GitInfo; dirty: Promise<void> } | undefined {
  const root = findGitRoot(dir);
  if (!root) return undefined;
  const gd = gitDir(root);
  const info: GitInfo = { root };
  try {
    const head = fs.readFileSync(path.join(gd, "HEAD"), "utf8").trim();
    if (head.startsWith("ref:")) {
      const ref = head.slice(4).trim();
      info.branch = ref.replace(/^refs\/heads\//, "");
      info.commit = readRef(gd, ref);
    } else info.commit = head;
  } catch {
    /* an odd repository; keep what we have */
  }
  try {
    const cfg = fs.readFileSync(path.join(gd, "config"), "utf8");
    const m = /\[remote "origin"\][^[]*?url\s*=\s*(.+)/.exec(cfg) ?? /\[remote "[^"]+"\][^[]*?url\s*=\s*(.+)/.exec(cfg);
    if (m) info.remote = m[1].trim();
  } catch {
    /* no config */
  }
  const dirty = new Promise<void>((resolve) => {
    execFile("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, timeout: 10_000 }, (err, stdout) => {
      if (!err) info.dirty = stdout.trim().length > 0;
      resolve();
    });
  });
  return { info, dirty };
}
