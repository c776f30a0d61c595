/**
 * A small flag parser shared by the subcommands: `--name value`, `--name=value` and
 * boolean `--name`. Unknown flags are usage errors, never silently ignored.
 */
import { UsageError } from "./command";

/** What a flag takes: a value (`string`) or nothing (`boolean`). */
export type FlagSpec = Readonly<Record<string, "string" | "boolean">>;

/** Parsed flags and the positional arguments, in order. */
export interface ParsedArgs {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly positional: readonly string[];
}

/**
 * Parses `args` against `spec`.
 * @example parseArgs(["--python", "py", "--user"], { python: "string", user: "boolean" })
 */
export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags: Record<string, string | boolean | undefined> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) throw new UsageError(`unknown option --${name}`);
    if (kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = args[i + 1];
      i++;
    }
    if (value === undefined || value === "") throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return { flags, positional };
}
