import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";

/** A fresh temporary folder, removed when the test file ends. */
export function tempDir(prefix = "labnote-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Capture process warnings emitted while fn runs. */
export async function warningsDuring(fn: () => Promise<unknown> | unknown): Promise<string[]> {
  const seen: string[] = [];
  const onWarn = (w: Error) => seen.push(w.message);
  process.on("warning", onWarn);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.removeListener("warning", onWarn);
  }
  return seen;
}

export const LIB = path.resolve(__dirname, "../../src/index.ts");
