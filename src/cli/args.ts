/**
 * The flag parser shared by the subcommands, on node's util.parseArgs: `--name value`,
 * `--name=value` and boolean `--name`. Unknown flags are usage errors, never silently ignored.
 */
import { parseArgs as nodeParseArgs } from "node:util";
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
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, type] of Object.entries(spec)) options[name] = { type };
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(usageMessage(e));
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string" && value === "") throw new UsageError(`--${name} needs a value`);
    flags[name] = value as string | boolean;
  }
  return { flags, positional: parsed.positionals };
}

/** node's parse error as one short line that names the flag. */
function usageMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "an option";
  const code = (e as { code?: unknown })?.code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${flag}`;
  if (/argument missing/.test(message)) return `${flag} needs a value`;
  if (/does not take an argument/.test(message)) return `${flag} takes no value`;
  return message;
}
