/**
 * Where the test harness finds the repository, its Python environment and the kernel.
 */
import fs from "node:fs";
import path from "node:path";

/** The repository root (this file sits in `test/helpers/`). */
export const repoRoot = path.resolve(__dirname, "..", "..");

/** The Python of the project's `.venv` (override with LABNOTE_PYTHON). */
export function venvPython(): string {
  const python = process.env.LABNOTE_PYTHON ?? path.join(repoRoot, ".venv", "bin", "python");
  if (!fs.existsSync(python)) {
    throw new Error(
      `Python environment missing: ${python} does not exist; run bash scripts/setup.sh (npm test runs it)`,
    );
  }
  return python;
}

/** The path of a helper script beside this file. */
export function helperScript(name: string): string {
  return path.join(__dirname, name);
}
