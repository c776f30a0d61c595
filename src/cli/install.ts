/**
 * `labnote install`: registers the `tslab` and `jslab` kernels with tslab's own installer
 * and copies the prebuilt JupyterLab extension into the same Jupyter data directory.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { UsageError, type Command } from "./command";
import { parseArgs } from "./args";

const USAGE = `Usage: labnote install [options]

Registers the tslab kernels (tslab, jslab) with Jupyter and installs the labnote
JupyterLab extension (labextension/dist) beside them.

Options:
  --python <exe>    the Python whose Jupyter gets the kernels (default: python3)
  --sys-prefix      install into that Python's sys.prefix (a virtual environment)
  --user            install into the per-user Jupyter data directory
  --prefix <dir>    install into <dir>/share/jupyter
  --binary <cmd>    the command the kernel spec runs (default: this package's tslab)
  -h, --help        show this help

Without --sys-prefix, --user or --prefix, the location is tslab's default: the
system-wide Jupyter directory when run as root, the per-user one otherwise.`;

/** Where the kernel spec and the extension go, as tslab's installer understands it. */
type Target = { kind: "sys-prefix" } | { kind: "user" } | { kind: "prefix"; dir: string } | { kind: "default" };

/** What the chosen Python says about its Jupyter paths. */
interface PythonPaths {
  readonly sysPrefix: string;
  readonly userDataDir: string;
  readonly systemDataDir: string;
}

/** The root of this package: `lib/cli/` or `src/cli/` sits two levels below it. */
function packageRoot(): string {
  return path.resolve(__dirname, "..", "..");
}

/** The executable of tslab's command, found through tslab's own package.json. */
function tslabBin(): string {
  let pkgJson: string;
  try {
    pkgJson = require.resolve("tslab/package.json");
  } catch {
    throw new Error("tslab is not installed: run npm ci (or npm install) in the labnote package first");
  }
  const pkg = JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { bin?: string | Record<string, string> };
  const rel = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.tslab;
  if (rel === undefined) throw new Error(`tslab's package.json names no "tslab" bin (${pkgJson})`);
  const bin = path.join(path.dirname(pkgJson), rel);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    // A registry tarball normally keeps the mode; restore it when a copy lost it.
    fs.chmodSync(bin, 0o755);
  }
  return bin;
}

function run(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: "utf8", env: env ?? process.env, maxBuffer: 16 * 1024 * 1024 });
}

const PATHS_SCRIPT = `
import json, sys
from jupyter_core.paths import jupyter_data_dir, SYSTEM_JUPYTER_PATH
print(json.dumps({"sysPrefix": sys.prefix, "userDataDir": jupyter_data_dir(), "systemDataDir": SYSTEM_JUPYTER_PATH[0]}))
`;

function pythonPaths(python: string): PythonPaths {
  const result = run(python, ["-c", PATHS_SCRIPT]);
  if (result.error !== undefined) {
    throw new Error(`cannot run Python "${python}": ${result.error.message}`);
  }
  if (result.status !== 0) {
    throw new Error(`"${python}" has no Jupyter (jupyter_core): ${result.stderr.trim().split("\n").pop() ?? ""}`);
  }
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}") as PythonPaths;
}

function isRoot(): boolean {
  return typeof process.geteuid === "function" && process.geteuid() === 0;
}

/** The Jupyter data directory (`…/share/jupyter`) that tslab's installer writes into for `target`. */
function dataDir(target: Target, paths: PythonPaths): string {
  switch (target.kind) {
    case "sys-prefix":
      return path.join(paths.sysPrefix, "share", "jupyter");
    case "prefix":
      return path.join(target.dir, "share", "jupyter");
    case "user":
      return paths.userDataDir;
    case "default":
      return isRoot() ? paths.systemDataDir : paths.userDataDir;
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

/** Runs tslab's installer; throws when it fails. */
function installKernels(python: string, binary: string, target: Target): void {
  const bin = tslabBin();
  const args = [bin, "install", "--python", python, "--binary", binary];
  if (target.kind === "sys-prefix") args.push("--sys-prefix");
  if (target.kind === "user") args.push("--user");
  if (target.kind === "prefix") args.push("--prefix", target.dir);
  const result = run(process.execPath, args);
  const out = `${result.stdout}${result.stderr}`.trim();
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`tslab's installer failed (exit ${result.status ?? "none"}):\n${out || result.error?.message}`);
  }
  for (const line of out.split("\n")) if (line.trim() !== "") console.log(`  ${line.trim()}`);
}

/** Copies `labextension/dist` into `<dataDir>/labextensions/<name>`; returns the name, or undefined when not built. */
function installExtension(dir: string): string | undefined {
  const dist = path.join(packageRoot(), "labextension", "dist");
  const pkgJson = path.join(dist, "package.json");
  if (!fs.existsSync(pkgJson)) {
    console.log(`labnote: the JupyterLab extension is not built (${dist} is missing): run npm run build`);
    console.log("labnote: installed the kernels only");
    return undefined;
  }
  const name = (JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { name?: string }).name ?? "labnote-jupyterlab";
  const dest = path.join(dir, "labextensions", ...name.split("/"));
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(dist, dest, { recursive: true });
  console.log(`labnote: installed the extension ${name} in ${dest}`);
  return name;
}

/** Asks Jupyter itself whether the extension is seen as enabled and OK. */
function checkExtension(python: string, name: string, dir: string, target: Target): boolean {
  const env = { ...process.env };
  // A --prefix outside the Python's own paths is only seen through JUPYTER_PATH.
  if (target.kind === "prefix") env.JUPYTER_PATH = [dir, env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  const result = run(python, ["-m", "jupyter", "labextension", "list"], env);
  const out = `${result.stdout}${result.stderr}`;
  const line = out.split("\n").find((l) => l.trim().startsWith(`${name} `) || l.includes(` ${name} v`));
  if (line === undefined) {
    console.error(`labnote: jupyter labextension list does not show ${name}:\n${out.trim()}`);
    return false;
  }
  const text = line.replace(/\x1b\[[0-9;]*m/g, "").trim();
  const ok = /\benabled\b/.test(text) && /\bOK\b/.test(text);
  (ok ? console.log : console.error)(`labnote: jupyter labextension list: ${text}`);
  if (ok && target.kind === "prefix") console.log(`labnote: Jupyter finds it when JUPYTER_PATH includes ${dir}`);
  return ok;
}

async function install(args: readonly string[]): Promise<number> {
  const { flags, positional } = parseArgs(args, {
    python: "string",
    "sys-prefix": "boolean",
    user: "boolean",
    prefix: "string",
    binary: "string",
  });
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
  const python = typeof flags.python === "string" ? flags.python : "python3";
  const target = parseTarget(flags);
  const paths = pythonPaths(python);
  const dir = dataDir(target, paths);
  const binary = typeof flags.binary === "string" ? flags.binary : tslabBin();

  console.log(`labnote: registering the tslab kernels with ${python} (${dir})`);
  installKernels(python, binary, target);
  const name = installExtension(dir);
  if (name === undefined) return 0;
  return checkExtension(python, name, dir, target) ? 0 : 1;
}

/** `labnote install`. */
export const command: Command = {
  name: "install",
  summary: "register the tslab kernels and the labnote JupyterLab extension with Jupyter",
  usage: USAGE,
  run: install,
};
