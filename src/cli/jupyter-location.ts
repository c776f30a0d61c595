/**
 * Where in a Jupyter installation the tslab kernels and the labnote extension live: the
 * one rule that `labnote install` writes by and `labnote uninstall` removes by, so the two
 * can never disagree about a location.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import { LabnoteError } from "../protocol";
import path from "node:path";
import { parseArgs, type FlagSpec } from "./args";
import { UsageError } from "./command";

/** Where the kernel specs and the extension go, as tslab's installer understands it. */
export type Target = { kind: "sys-prefix" } | { kind: "user" } | { kind: "prefix"; dir: string } | { kind: "default" };

/** What the chosen Python says about its Jupyter paths. */
export interface PythonPaths {
  readonly sysPrefix: string;
  readonly userDataDir: string;
  readonly systemDataDir: string;
}

/** The flags that choose a Jupyter installation. */
const LOCATION_FLAGS = {
  python: "string",
  "sys-prefix": "boolean",
  user: "boolean",
  prefix: "string",
} as const satisfies FlagSpec;

/** The help text of the location flags (--python, --sys-prefix, --user, --prefix), for a command's usage. */
export const LOCATION_USAGE = `  --python <exe>    the Python of the Jupyter to use (default: python3)
  --sys-prefix      that Python's sys.prefix (a virtual environment)
  --user            the per-user Jupyter data directory
  --prefix <dir>    <dir>/share/jupyter`;

/** The paragraph on the location chosen when no flag names one. */
export const DEFAULT_LOCATION_USAGE = `Without --sys-prefix, --user or --prefix, the location is tslab's default: the
system-wide Jupyter directory when run as root, the per-user one otherwise.`;

/** The kernel specs that tslab's installer writes. */
export const KERNEL_NAMES = ["tslab", "jslab"] as const;

/** The extension's package name when no build is at hand to read it from. */
const DEFAULT_EXTENSION_NAME = "labnote-jupyterlab";

/** The root of this package: `lib/cli/` or `src/cli/` sits two levels below it. */
export function packageRoot(): string {
  return path.resolve(__dirname, "..", "..");
}

/** The folder of the prebuilt JupyterLab extension inside this package. */
export function extensionDist(): string {
  return path.join(packageRoot(), "labextension", "dist");
}

/** The extension's package name, as its build names it. */
export function extensionName(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(extensionDist(), "package.json"), "utf8")) as { name?: string };
    return pkg.name ?? DEFAULT_EXTENSION_NAME;
  } catch {
    return DEFAULT_EXTENSION_NAME;
  }
}

/** The folder Jupyter loads the prebuilt extension `name` from, under a data directory. */
export function extensionDir(dataDir: string, name: string): string {
  return path.join(dataDir, "labextensions", ...name.split("/"));
}

/** The folder of the kernel spec `name` under a data directory. */
export function kernelDir(dataDir: string, name: string): string {
  return path.join(dataDir, "kernels", name);
}

/** Runs a command to completion, capturing its output as text. */
export function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", env: env ?? process.env, maxBuffer: 16 * 1024 * 1024 });
}

const PATHS_SCRIPT = `
import json, sys
from jupyter_core.paths import jupyter_data_dir, SYSTEM_JUPYTER_PATH
print(json.dumps({"sysPrefix": sys.prefix, "userDataDir": jupyter_data_dir(), "systemDataDir": SYSTEM_JUPYTER_PATH[0]}))
`;

/** Asks `python` for its Jupyter paths; throws a message a user can act on when it cannot. */
export function pythonPaths(python: string): PythonPaths {
  const result = run(python, ["-c", PATHS_SCRIPT]);
  if (result.error !== undefined) {
    throw new LabnoteError("INSTALL", "Cannot find Jupyter", `cannot run Python "${python}": ${result.error.message} (pass --python with the Python of your Jupyter)`);
  }
  if (result.status !== 0) {
    throw new LabnoteError(
      "INSTALL",
      "Cannot find Jupyter",
      `"${python}" has no Jupyter (jupyter_core): ${result.stderr.trim().split("\n").pop() ?? ""} ` +
        "(pass --python with the Python of your Jupyter, or pip install jupyterlab into it)",
    );
  }
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as PythonPaths;
}

function isRoot(): boolean {
  return typeof process.geteuid === "function" && process.geteuid() === 0;
}

/**
 * The Jupyter data directory (`…/share/jupyter`) that tslab's installer writes into for
 * `target`; `paths` is only asked for when the target depends on the Python.
 */
export function dataDir(target: Target, paths: () => PythonPaths): string {
  switch (target.kind) {
    case "sys-prefix":
      return path.join(paths().sysPrefix, "share", "jupyter");
    case "prefix":
      return path.join(target.dir, "share", "jupyter");
    case "user":
      return paths().userDataDir;
    case "default":
      return isRoot() ? paths().systemDataDir : paths().userDataDir;
  }
}

function parseTarget(flags: Readonly<Record<string, string | boolean | undefined>>): Target {
  const chosen = ["sys-prefix", "user", "prefix"].filter((f) => flags[f] !== undefined);
  if (chosen.length > 1) throw new UsageError(`choose one of --sys-prefix, --user, --prefix (got ${chosen.join(", ")})`);
  if (flags["sys-prefix"] === true) return { kind: "sys-prefix" };
  if (flags.user === true) return { kind: "user" };
  if (typeof flags.prefix === "string") return { kind: "prefix", dir: path.resolve(flags.prefix) };
  return { kind: "default" };
}

/** A command line parsed for the location flags and a command's own flags. */
export interface LocationArgs {
  /** Every flag given, the command's own among them. */
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  /** The Python named by `--python`, or python3. */
  readonly python: string;
  readonly target: Target;
}

/** Parses `args` for a command that takes a Jupyter location and, optionally, flags of its own. */
export function parseLocationArgs(args: readonly string[], own: FlagSpec = {}): LocationArgs {
  const { flags, positional } = parseArgs(args, { ...LOCATION_FLAGS, ...own });
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
  return { flags, python: typeof flags.python === "string" ? flags.python : "python3", target: parseTarget(flags) };
}
