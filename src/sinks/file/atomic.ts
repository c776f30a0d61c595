import * as fs from "node:fs";
import * as path from "node:path";
import { isLabnoteError, storeError } from "../../protocol";

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

/**
 * Write a file atomically piece by piece: `fill` hands its text to `write` as often as it
 * likes (a file too large for one string), and readers see the whole file or none of it.
 */
export function writeAtomicBy(file: string, fill: (write: (text: string) => void) => void): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++counter}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    const out = fd;
    fill((text) => {
      const buf = Buffer.from(text, "utf8");
      for (let off = 0; off < buf.length; ) off += fs.writeSync(out, buf, off, buf.length - off);
    });
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {
      /* the original error matters more */
    }
    throw isLabnoteError(e) ? e : storeError("write", file, e);
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
