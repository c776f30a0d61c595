import * as fs from "node:fs";
import * as path from "node:path";
import { storeError } from "../../protocol";

let counter = 0;

/** Write a file atomically: a temporary file beside it, then rename. Readers never see half a file. */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* the original error matters more */
    }
    throw storeError("write", file, e);
  }
}

/** Create a folder and its parents, with a clear error. */
export function ensureDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw storeError("write", dir, realCause(dir, e));
  }
}

/** Recursive mkdir reports ENOENT for many causes; retry the first missing level alone to learn the real one. */
function realCause(dir: string, e: unknown): unknown {
  let cur = path.resolve(dir);
  const missing: string[] = [];
  while (!fs.existsSync(cur)) {
    missing.push(cur);
    const up = path.dirname(cur);
    if (up === cur) return e;
    cur = up;
  }
  if (!fs.statSync(cur).isDirectory()) return Object.assign(new Error(`${cur} is a file`), { code: "ENOTDIR" });
  const first = missing[missing.length - 1];
  if (!first) return e;
  try {
    fs.mkdirSync(first);
    fs.rmdirSync(first);
  } catch (inner) {
    return inner;
  }
  return e;
}

/** Append to a file, with a clear error. */
export function appendSync(file: string, data: string | Uint8Array): void {
  try {
    fs.appendFileSync(file, data);
  } catch (e) {
    throw storeError("write", file, e);
  }
}
