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

/** Capture what labnote says with console.warn (and process warnings) while fn runs. */
export async function warningsDuring(fn: () => Promise<unknown> | unknown): Promise<string[]> {
  const seen: string[] = [];
  const onWarn = (w: Error) => seen.push(w.message);
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(" "));
  process.on("warning", onWarn);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.removeListener("warning", onWarn);
    console.warn = original;
  }
  return seen;
}

export const LIB = path.resolve(__dirname, "../../src/index.ts");
