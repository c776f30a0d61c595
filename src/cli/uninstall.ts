/**
 * `labnote uninstall`: removes the `tslab` and `jslab` kernel specs and the labnote
 * JupyterLab extension from the Jupyter data directory that `labnote install` with the
 * same options wrote them to.
 */
import fs from "node:fs";
import { LabnoteError } from "../protocol";
import path from "node:path";
import type { Command } from "./command";
import {
  DEFAULT_LOCATION_USAGE,
  KERNEL_NAMES,
  LOCATION_USAGE,
  dataDir,
  extensionDir,
  extensionName,
  kernelDir,
  parseLocationArgs,
  pythonPaths,
} from "./jupyter-location";

const USAGE = `Usage: labnote uninstall [options]

Removes the tslab kernels (tslab, jslab) and the labnote JupyterLab extension from a
Jupyter installation. Give it the options that \`labnote install\` was given.

Options:
${LOCATION_USAGE}
  -h, --help        show this help

${DEFAULT_LOCATION_USAGE}`;

/** One folder to remove, and what a person calls it. */
interface Installed {
  readonly what: string;
  readonly dir: string;
  /** The file that shows the folder is what it is named for; a folder without it stays. */
  readonly marker: string;
}

function uninstall(args: readonly string[]): number {
  const { python, target } = parseLocationArgs(args);
  // A --prefix needs no Python: the location is the folder itself, even when its venv is gone.
  const dir = dataDir(target, () => pythonPaths(python));
  const name = extensionName();
  const installed: Installed[] = [
    ...KERNEL_NAMES.map((k) => ({ what: `the kernel spec ${k}`, dir: kernelDir(dir, k), marker: "kernel.json" })),
    { what: `the extension ${name}`, dir: extensionDir(dir, name), marker: "package.json" },
  ];

  let removed = 0;
  for (const item of installed) {
    if (!fs.existsSync(item.dir)) continue;
    if (!fs.existsSync(path.join(item.dir, item.marker))) {
      console.log(`labnote: left ${item.dir} in place: it has no ${item.marker}, so it is not ${item.what}`);
      continue;
    }
    try {
      fs.rmSync(item.dir, { recursive: true, force: true });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new LabnoteError("INSTALL", "Cannot uninstall", `cannot remove ${item.what} (${item.dir}): ${reason} (run as a user who may write there)`);
    }
    console.log(`labnote: removed ${item.what} (${item.dir})`);
    removed++;
  }
  if (removed === 0) {
    console.log(
      `labnote: nothing to remove: no ${KERNEL_NAMES.join(" or ")} kernel spec and no ${name} extension in ${dir}` +
        " (installed elsewhere? pass the --python and --sys-prefix, --user or --prefix that install was given)",
    );
  }
  return 0;
}

/** `labnote uninstall`. */
export const command: Command = {
  name: "uninstall",
  summary: "remove the tslab kernels and the labnote JupyterLab extension from Jupyter",
  usage: USAGE,
  run: uninstall,
};
