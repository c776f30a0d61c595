import { LabnoteError, isLabnoteError } from "../protocol";

/**
 * The contract every subcommand module in `src/cli/` follows: it exports a `command`
 * with this shape, and `main.ts` finds it by file name (`labnote runs` loads `runs.js`).
 * Adding a subcommand is adding one file; nothing else needs to change.
 */
export interface Command {
  /** The word typed after `labnote`; equal to the module's file name. */
  readonly name: string;
  /** One line for `labnote --help`. */
  readonly summary: string;
  /** The full text for `labnote <name> --help`. */
  readonly usage: string;
  /** Runs the subcommand with the arguments after its name; resolves to the exit code. */
  run(args: readonly string[]): Promise<number> | number;
}

/** A usage error: the message is printed with the subcommand's usage, exit code 2. */
export class UsageError extends LabnoteError {
  constructor(detail: string) {
    super("USAGE", "Invalid command line", detail);
  }
}

/** True for a usage error, from any loaded copy of labnote. */
export function isUsageError(error: unknown): error is UsageError {
  return isLabnoteError(error) && error.code === "USAGE";
}
