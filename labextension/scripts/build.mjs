// Builds the prebuilt JupyterLab extension into labextension/dist/.
//
// Two steps: TypeScript to lib/, then @jupyterlab/builder's webpack build against the core
// packages of the JupyterLab that the project's environment installs (its `staging` folder),
// so shared packages resolve to the exact versions that JupyterLab ships.
// The environment is <repo>/.venv unless LABNOTE_VENV names another one.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.resolve(here, "..");
const repo = path.resolve(ext, "..");
const require = createRequire(path.join(ext, "package.json"));
const dev = process.argv.includes("--dev");

function stagingOf(venv) {
  const libdir = path.join(venv, "lib");
  if (!existsSync(libdir)) return undefined;
  for (const py of readdirSync(libdir).filter((d) => d.startsWith("python3")).sort().reverse()) {
    const staging = path.join(libdir, py, "site-packages", "jupyterlab", "staging");
    if (existsSync(path.join(staging, "package.json"))) return staging;
  }
  return undefined;
}

const venv = path.resolve(process.env.LABNOTE_VENV ?? path.join(repo, ".venv"));
const staging = stagingOf(venv);
if (!staging) {
  console.error(`labnote-jupyterlab: no JupyterLab found in ${venv}; run scripts/setup.sh or set LABNOTE_VENV`);
  process.exit(1);
}

const tsc = require.resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(ext, "tsconfig.json")], { stdio: "inherit" });

rmSync(path.join(ext, "dist"), { recursive: true, force: true });
const builder = require.resolve("@jupyterlab/builder/lib/build-labextension.js");
const args = [builder, "--core-path", staging];
if (dev) args.push("--development");
args.push(ext);
execFileSync(process.execPath, args, { stdio: "inherit" });
console.log(`labnote-jupyterlab: built ${path.relative(repo, path.join(ext, "dist"))} against ${staging}`);
