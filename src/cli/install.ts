/**
 * `labnote install`: registers the `tslab` and `jslab` kernels with tslab's own installer
 * and copies the prebuilt JupyterLab extension into the same Jupyter data directory.
 */
import fs from "node:fs";
import { LabnoteError, preloadOption } from "../protocol";
import path from "node:path";
import type { Command } from "./command";
import {
  DEFAULT_LOCATION_USAGE,
  LOCATION_USAGE,
  dataDir,
  extensionDir,
  extensionDist,
  extensionName,
  kernelDir,
  KERNEL_NAMES,
  packageRoot,
  parseLocationArgs,
  pythonPaths,
  run,
  type Target,
} from "./jupyter-location";

const USAGE = `Usage: labnote install [options]

Registers the tslab kernels (tslab, jslab) with Jupyter and installs the labnote
JupyterLab extension (labextension/dist) beside them.

Options:
${LOCATION_USAGE}
  --binary <cmd>    the command the kernel spec runs (default: this package's tslab)
  --no-preload      do not load labnote's kernel preload (the session log then starts
                    where a notebook first imports labnote, not at its first cell)
  -h, --help        show this help

${DEFAULT_LOCATION_USAGE}
\`labnote uninstall\` with the same options removes them again.`;

/** The executable of tslab's command, found through tslab's own package.json. */
function tslabBin(): string {
  let pkgJson: string;
  try {
    pkgJson = require.resolve("tslab/package.json");
  } catch {
    throw new LabnoteError("INSTALL", "Cannot install", "tslab is not installed: run npm ci (or npm install) in the labnote package first");
  }
  const pkg = JSON.parse(fs.readFileSync(pkgJson, "utf8")) as { bin?: string | Record<string, string> };
  const rel = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.tslab;
  if (rel === undefined) throw new LabnoteError("INSTALL", "Cannot install", `tslab's package.json names no "tslab" bin (${pkgJson})`);
  const bin = path.join(path.dirname(pkgJson), rel);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    // A registry tarball normally keeps the mode; restore it when a copy lost it.
    fs.chmodSync(bin, 0o755);
  }
  return bin;
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
    throw new LabnoteError("INSTALL", "Cannot install", `tslab's installer failed (exit ${result.status ?? "none"}):\n${out || result.error?.message}`);
  }
  for (const line of out.split("\n")) if (line.trim() !== "") console.log(`  ${line.trim()}`);
}

/** The kernel preload of this package's build, or undefined when lib/ is not built. */
function preloadFile(): string | undefined {
  const file = path.join(packageRoot(), "lib", "kernel", "preload.js");
  return fs.existsSync(file) ? file : undefined;
}

/**
 * Adds labnote's preload to the kernel specs tslab wrote (NODE_OPTIONS in the spec's env): the
 * kernel then keeps its session log from its first cell. The preload is silent until a notebook
 * uses labnote, and drops itself from NODE_OPTIONS so that the kernel's child processes do not
 * inherit it.
 */
function addPreload(dir: string): void {
  const file = preloadFile();
  if (file === undefined) {
    console.log(`labnote: lib/kernel/preload.js is not built (run npm run build): the session log will start where labnote is imported`);
    return;
  }
  for (const name of KERNEL_NAMES) {
    const spec = path.join(kernelDir(dir, name), "kernel.json");
    if (!fs.existsSync(spec)) continue;
    const json = JSON.parse(fs.readFileSync(spec, "utf8")) as { env?: Record<string, string> };
    json.env = { ...(json.env ?? {}), NODE_OPTIONS: preloadOption(file) };
    fs.writeFileSync(spec, JSON.stringify(json, null, 1) + "\n");
  }
  console.log(`labnote: the kernels load ${file} (the session log from each kernel's first cell)`);
}

/** Copies `labextension/dist` into `<dataDir>/labextensions/<name>`; returns the name, or undefined when not built. */
function installExtension(dir: string): string | undefined {
  const dist = extensionDist();
  if (!fs.existsSync(path.join(dist, "package.json"))) {
    console.log(`labnote: the JupyterLab extension is not built (${dist} is missing): run npm run build`);
    console.log("labnote: installed the kernels only");
    return undefined;
  }
  const name = extensionName();
  const dest = extensionDir(dir, name);
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
  const { flags, python, target } = parseLocationArgs(args, { binary: "string", "no-preload": "boolean" });
  // Asked even for --prefix: tslab's installer and the check below need this Python's Jupyter.
  const paths = pythonPaths(python);
  const dir = dataDir(target, () => paths);
  const binary = typeof flags.binary === "string" ? flags.binary : tslabBin();

  console.log(`labnote: registering the tslab kernels with ${python} (${dir})`);
  installKernels(python, binary, target);
  if (flags["no-preload"] !== true) addPreload(dir);
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
