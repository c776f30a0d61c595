import * as fs from "node:fs";
import * as path from "node:path";

/** The nearest folder at or above `dir` holding a package.json, if any. */
export function findProjectDir(dir: string): string | undefined {
  let cur = path.resolve(dir);
  for (;;) {
    if (fs.existsSync(path.join(cur, "package.json"))) return cur;
    const up = path.dirname(cur);
    if (up === cur) return undefined;
    cur = up;
  }
}

export interface DependencyInfo {
  project?: { name?: string; version?: string };
  /** Declared range and installed version of each dependency. */
  dependencies: Record<string, { wanted: string; installed?: string }>;
}

const cache = new Map<string, { mtime: number; info: DependencyInfo }>();

/** Dependency versions from the project's package.json and what node_modules holds. */
export function dependencyInfo(projectDir: string): DependencyInfo {
  const file = path.join(projectDir, "package.json");
  let mtime = 0;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    return { dependencies: {} };
  }
  const hit = cache.get(file);
  if (hit && hit.mtime === mtime) return hit.info;
  let pkg: Record<string, unknown> = {};
  try {
    pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    /* unreadable package.json: no dependencies recorded */
  }
  const deps: DependencyInfo["dependencies"] = {};
  for (const field of ["dependencies", "devDependencies"]) {
    const d = pkg[field];
    if (!d || typeof d !== "object") continue;
    for (const [name, wanted] of Object.entries(d as Record<string, string>)) {
      let installed: string | undefined;
      try {
        installed = JSON.parse(fs.readFileSync(path.join(projectDir, "node_modules", name, "package.json"), "utf8")).version;
      } catch {
        installed = undefined;
      }
      deps[name] = { wanted, installed };
    }
  }
  const info = { project: { name: pkg.name as string | undefined, version: pkg.version as string | undefined }, dependencies: deps };
  cache.set(file, { mtime, info });
  return info;
}
