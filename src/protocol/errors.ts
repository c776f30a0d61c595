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
  | "INSTALL";

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
