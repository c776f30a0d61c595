/** Every way a labnote call can fail; `code` is stable, the message says what and what to do. */
export type LabnoteErrorCode =
  | "INVALID_NAME"
  | "INVALID_VALUE"
  | "INVALID_OPTION"
  | "CONFIG_FROZEN"
  | "CONFIG_LOAD"
  | "CONFIG_UNKNOWN_KEY"
  | "UNKNOWN_NAMED_CONFIG"
  | "NO_ACTIVE_RUN"
  | "NO_ACTIVE_EXPERIMENT"
  | "NOT_FOUND"
  | "STORE_WRITE"
  | "STORE_READ"
  | "RUN_ENDED"
  | "READ_ONLY"
  | "UNSERIALIZABLE"
  | "UNSUPPORTED"
  | "USAGE"
  | "INSTALL"
  /** A server labnote talks to (an MLflow tracking server) does not answer or refuses. */
  | "REMOTE";

/**
 * The one error class labnote throws. Check with {@link isLabnoteError}, not `instanceof`:
 * two copies of labnote can be loaded in one kernel.
 * @example
 * try { run.log("loss", "x" as any) } catch (e) { if (isLabnoteError(e)) console.log(e.code) }
 */
export class LabnoteError extends Error {
  override readonly name = "LabnoteError";
  /** What kind of failure this is; stable across releases. */
  readonly code: LabnoteErrorCode;
  constructor(code: LabnoteErrorCode, what: string, detail: string, options?: { cause?: unknown }) {
    super(`${what}: ${detail}`, options);
    this.code = code;
  }
}

/** True for a labnote error from any loaded copy of labnote. */
export function isLabnoteError(e: unknown): e is LabnoteError {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === "LabnoteError" && typeof (e as { code?: unknown }).code === "string";
}

/**
 * What a thrown value says about itself: its name, message and stack, whatever was thrown (an
 * Error, a string, an object, a value whose getters throw). Never throws.
 * @example describeThrown("boom") // { name: "Error", message: "boom" }
 */
export function describeThrown(thrown: unknown): { name: string; message: string; stack?: string } {
  try {
    if (thrown !== null && typeof thrown === "object" && "message" in thrown) {
      const e = thrown as { name?: unknown; message?: unknown; stack?: unknown };
      const out: { name: string; message: string; stack?: string } = { name: String(e.name ?? "Error"), message: String(e.message) };
      if (typeof e.stack === "string") out.stack = e.stack;
      return out;
    }
    if (typeof thrown === "string") return { name: "Error", message: thrown };
    let text: string | undefined;
    try {
      text = JSON.stringify(thrown);
    } catch {
      text = undefined;
    }
    return { name: "Error", message: text ?? String(thrown) };
  } catch {
    return { name: "Error", message: "a value that cannot be printed was thrown" };
  }
}

const FS_HINTS: Record<string, string> = {
  ENOSPC: "no space left on device; free some space or point LABNOTE_DIR (or the root option) at another disk",
  EDQUOT: "disk quota exceeded; free some space or point LABNOTE_DIR (or the root option) at another disk",
  EACCES: "permission denied; choose a writable folder with the root option or LABNOTE_DIR",
  EPERM: "operation not permitted; choose a writable folder with the root option or LABNOTE_DIR",
  EROFS: "the file system is read-only; choose a writable folder with the root option or LABNOTE_DIR",
  ENOTDIR: "a part of the path is a file, not a folder; choose another root",
  EISDIR: "the path is a folder, not a file",
  ENOENT: "no such file or folder",
};

/** Wrap a file-system error in a LabnoteError that names the path and says what to do. */
export function storeError(op: "write" | "read", path: string, e: unknown): LabnoteError {
  const raw = (e as { code?: unknown } | null)?.code;
  const code = typeof raw === "string" ? raw : "";
  const hint = FS_HINTS[code] ?? (e instanceof Error ? e.message : String(e));
  return new LabnoteError(op === "write" ? "STORE_WRITE" : "STORE_READ", `Cannot ${op} ${path}`, `${hint}${code ? ` (${code})` : ""}`, { cause: e });
}
