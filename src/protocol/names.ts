/** Names that become folder and file names in the store: what is refused, and why. */
import { LabnoteError } from "./errors";
import { STORE_DIR } from "./layout";

const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Check a name that becomes one folder or file name (experiment names). Refuses empty names,
 * path separators, `.`/`..`, control characters and NUL, with an error that says what to do.
 */
export function checkSegment(kind: string, name: unknown): string {
  if (typeof name !== "string" || name.length === 0)
    throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name`, `expected a non-empty string, got ${describe(name)}`);
  if (name.length > 200) throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name`, `"${name.slice(0, 40)}…" is longer than 200 characters`);
  if (CONTROL.test(name)) throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name ${JSON.stringify(name)}`, "it contains NUL or control characters");
  if (name === "." || name === ".." || /[\\/]/.test(name) || name.startsWith("."))
    throw new LabnoteError(
      "INVALID_NAME",
      `Invalid ${kind} name ${JSON.stringify(name)}`,
      "it must not contain / or \\ or start with a dot; use letters, digits, - and _",
    );
  if (name === STORE_DIR)
    throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name ${JSON.stringify(name)}`, `"${STORE_DIR}" is the store's own folder (blobs, sessions, snapshots, trash); choose another name`);
  return name;
}

/**
 * Check a relative file name that may have sub-folders (artifact names: `plots/loss`).
 * Refuses absolute paths, `..` segments, NUL, control characters: nothing may leave its folder.
 */
export function checkRelativePath(kind: string, name: unknown): string {
  if (typeof name !== "string" || name.length === 0)
    throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name`, `expected a non-empty string, got ${describe(name)}`);
  if (CONTROL.test(name)) throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name ${JSON.stringify(name)}`, "it contains NUL or control characters");
  if (name.startsWith("/") || /^[a-zA-Z]:/.test(name) || name.startsWith("\\"))
    throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name ${JSON.stringify(name)}`, "it is an absolute path; give a name relative to the run's folder");
  const parts = name.split(/[\\/]/);
  if (parts.some((p) => p === ".." || p === "." || p === ""))
    throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name ${JSON.stringify(name)}`, "it would leave the run's folder (no '..', '.' or empty segments)");
  if (name.length > 255) throw new LabnoteError("INVALID_NAME", `Invalid ${kind} name`, "it is longer than 255 characters");
  return parts.join("/");
}

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x);
  if (typeof x === "bigint") return `a BigInt (${x}n)`;
  if (typeof x === "function") return "a function";
  if (typeof x === "object") return Array.isArray(x) ? "an array" : `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `${typeof x} ${String(x)}`;
}
