#!/usr/bin/env node
/**
 * The `labnote` command. Each subcommand is one module beside this file that exports a
 * `command` (see `command.ts`); this file only finds it and dispatches.
 */
import fs from "node:fs";
import path from "node:path";
import { isLabnoteError } from "../protocol";
import { isUsageError, type Command } from "./command";

/** Error codes that mean the command line named something wrong: exit code 2. */
const WRONG_INPUT = new Set(["NOT_FOUND", "INVALID_NAME", "INVALID_VALUE"]);

const NOT_COMMANDS = new Set(["main", "command", "args", "store", "progress"]);

/** Loads the subcommand `name`, or returns undefined when no module of that name exports one. */
function loadCommand(name: string): Command | undefined {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || NOT_COMMANDS.has(name)) return undefined;
  let resolved: string;
  try {
    resolved = require.resolve(`./${name}`);
  } catch {
    return undefined;
  }
  // Only modules that sit right beside this file are subcommands.
  if (path.dirname(resolved) !== __dirname) return undefined;
  const mod = require(resolved) as { command?: Command };
  return mod.command !== undefined && typeof mod.command.run === "function" ? mod.command : undefined;
}

/** Every subcommand present, sorted by name. */
function listCommands(): Command[] {
  const names = new Set<string>();
  for (const file of fs.readdirSync(__dirname)) {
    const match = /^([a-z][a-z0-9-]*)\.(js|ts)$/.exec(file);
    if (match !== null && !file.endsWith(".d.ts")) names.add(match[1]);
  }
  const commands: Command[] = [];
  for (const name of [...names].sort()) {
    const command = loadCommand(name);
    if (command !== undefined) commands.push(command);
  }
  return commands;
}

function version(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "unknown";
}

function help(): string {
  const commands = listCommands();
  const width = Math.max(8, ...commands.map((c) => c.name.length));
  return [
    "Usage: labnote <command> [options]",
    "",
    "Experiment manager for TypeScript notebooks (tslab kernel in JupyterLab).",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show this help; `labnote <command> --help` for a command's options",
    "  -v, --version  print the version",
  ].join("\n");
}

/** Runs the command line `argv` (without node and the script) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    const topic = first === "help" ? rest[0] : undefined;
    const command = topic === undefined ? undefined : loadCommand(topic);
    console.log(command !== undefined ? command.usage : help());
    return first === undefined ? 2 : 0;
  }
  if (first === "-v" || first === "--version") {
    console.log(version());
    return 0;
  }
  const command = loadCommand(first);
  if (command === undefined) {
    console.error(`labnote: unknown command "${first}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes("-h") || rest.includes("--help")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (isUsageError(error)) {
      console.error(`labnote ${command.name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`labnote ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    // A wrong id, experiment, path or filter is the caller's to fix, like a usage error.
    return isLabnoteError(error) && WRONG_INPUT.has(error.code) ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
