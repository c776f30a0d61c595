/** Paths of the store on this machine. */
import * as path from "node:path";
import { LabnoteError } from "../protocol";

/** The default store root, beside the notebook (the working directory); LABNOTE_DIR overrides. */
export function defaultRoot(): string {
  return process.env.LABNOTE_DIR || "experiments";
}

/** Join under `base` and prove the result stays inside it. */
export function inside(base: string, rel: string): string {
  const full = path.resolve(base, rel);
  const b = path.resolve(base);
  if (full !== b && !full.startsWith(b + path.sep))
    throw new LabnoteError("INVALID_NAME", `Invalid name ${JSON.stringify(rel)}`, `it resolves outside ${b}`);
  return full;
}
