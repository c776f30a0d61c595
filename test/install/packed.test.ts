/**
 * labnote as someone else's project gets it: `npm pack` of a clean copy of this repository
 * (no lib/, no extension build: prepack makes them), `npm install` of the tarball into a new
 * project without overrides, `labnote install` into a new Python environment with the newest
 * JupyterLab 4 that pip finds, a notebook beside the project's code run through nbclient on
 * the tslab kernel, and `labnote uninstall` again. Everything lives under one temporary folder.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { executeNotebook, repoRoot, streamText, venvPython } from "../helpers";

const STEP_TIMEOUT = 10 * 60_000;

interface Result {
  readonly code: number | null;
  readonly out: string;
}

/** Runs a command to its end (or `timeout`), with stdout and stderr together as a person sees them. */
function sh(cmd: string, args: readonly string[], cwd: string, timeout = STEP_TIMEOUT): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

function withoutColours(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** The files of a clean clone: what git tracks, plus new files it does not ignore. */
function copySources(dest: string): void {
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(listed.status, 0, `git ls-files failed in ${repoRoot}: ${listed.stderr}`);
  for (const rel of listed.stdout.split("\0").filter(Boolean)) {
    const from = path.join(repoRoot, rel);
    if (!fs.existsSync(from)) continue; // deleted in the work tree, not yet in the index
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(dest, rel));
  }
}

const notebook = (cells: string[]) => ({
  cells: cells.map((source) => ({ cell_type: "code", source, metadata: {}, outputs: [], execution_count: null })),
  metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
  nbformat: 4,
  nbformat_minor: 5,
});

describe("labnote packed and installed in a new project", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-packed-"));
  const clone = path.join(tmp, "clone");
  const packs = path.join(tmp, "packs");
  const project = path.join(tmp, "project");
  const venv = path.join(tmp, "venv");
  const python = path.join(venv, "bin", "python");
  const jupyter = path.join(venv, "bin", "jupyter");
  const installed = path.join(venv, "share", "jupyter");
  let tarball = "";

  before(() => {
    // This file runs in a process of its own: what npm sets for scripts (npm test), the test
    // runner's marker and a store override are not in a user's shell; a Jupyter data and
    // config folder of the user's own could hold a tslab kernel that hides the one under test.
    for (const key of Object.keys(process.env)) {
      if (/^npm_/i.test(key) || key === "INIT_CWD") delete process.env[key];
    }
    delete process.env.NODE_TEST_CONTEXT;
    delete process.env.LABNOTE_DIR;
    delete process.env.JUPYTER_PATH;
    process.env.JUPYTER_DATA_DIR = path.join(tmp, "jupyter-data");
    process.env.JUPYTER_CONFIG_DIR = path.join(tmp, "jupyter-config");
    process.env.PIP_DISABLE_PIP_VERSION_CHECK = "1";
    for (const dir of [clone, packs, project]) fs.mkdirSync(dir, { recursive: true });
    copySources(clone);
    // The build and npm pack only read node_modules, so hard links share it without a copy.
    const linked = spawnSync("cp", ["-al", path.join(repoRoot, "node_modules"), clone]);
    if (linked.status !== 0) {
      fs.rmSync(path.join(clone, "node_modules"), { recursive: true, force: true });
      const copied = spawnSync("cp", ["-a", path.join(repoRoot, "node_modules"), clone]);
      assert.equal(copied.status, 0, `copying node_modules failed: ${copied.stderr}`);
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("npm pack stops with a message to run scripts/setup.sh when the extension cannot be built", { timeout: STEP_TIMEOUT }, async () => {
    assert.ok(!fs.existsSync(path.join(clone, "lib")) && !fs.existsSync(path.join(clone, "labextension/dist")));
    process.env.LABNOTE_VENV = path.join(tmp, "no-venv");
    try {
      const { code, out } = await sh("npm", ["pack", "--pack-destination", packs], clone);
      assert.notEqual(code, 0, out);
      assert.match(out, /no JupyterLab found in .*no-venv/);
      assert.match(out, /labnote prepack: FAILED: .*run bash scripts\/setup\.sh first/);
      assert.deepEqual(fs.readdirSync(packs), []);
    } finally {
      delete process.env.LABNOTE_VENV;
    }
  });

  it("npm pack of a clean copy builds lib/ and the extension through prepack and bundles arquero with flechette 2.6.0", { timeout: STEP_TIMEOUT }, async () => {
    fs.rmSync(path.join(clone, "lib"), { recursive: true, force: true });
    process.env.LABNOTE_VENV = path.dirname(path.dirname(venvPython()));
    try {
      const { code, out } = await sh("npm", ["pack", "--pack-destination", packs], clone);
      assert.equal(code, 0, out);
      assert.match(out, /labnote prepack: built lib\/ and labextension\/dist\//);
    } finally {
      delete process.env.LABNOTE_VENV;
    }
    const [name] = fs.readdirSync(packs).filter((f) => f.endsWith(".tgz"));
    assert.ok(name !== undefined, `no tarball in ${packs}`);
    tarball = path.join(packs, name);
    const list = spawnSync("tar", ["tzf", tarball], { encoding: "utf8" });
    assert.equal(list.status, 0, list.stderr);
    const files = new Set(list.stdout.split("\n"));
    for (const f of ["lib/index.js", "lib/index.d.ts", "lib/cli/main.js", "lib/cli/uninstall.js", "labextension/dist/package.json"]) {
      assert.ok(files.has(`package/${f}`), `the tarball lacks ${f}`);
    }
    assert.ok(files.has("package/node_modules/arquero/package.json"), "arquero is not bundled");
    assert.ok([...files].every((f) => !f.includes("..")), "the tarball has paths that leave its folder");
    const flechette = spawnSync("tar", ["xzf", tarball, "-O", "package/node_modules/@uwdata/flechette/package.json"], { encoding: "utf8" });
    assert.equal(flechette.status, 0, flechette.stderr);
    assert.equal(JSON.parse(flechette.stdout).version, "2.6.0");
  });

  it("npm install of the tarball works in a new project without overrides, and require(\"labnote\") gives an arquero runs table", { timeout: STEP_TIMEOUT }, async () => {
    assert.ok(tarball !== "", "no tarball was packed");
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "my-models", version: "1.0.0", private: true }, null, 2));
    const { code, out } = await sh("npm", ["install", "--no-audit", "--no-fund", tarball], project);
    assert.equal(code, 0, out);
    const pkg = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8"));
    assert.match(pkg.dependencies.labnote, /labnote-0\.1\.0\.tgz$/);
    assert.equal(pkg.overrides, undefined);

    const script = `
      const { experiment } = require("labnote");
      (async () => {
        const exp = await experiment("plain", { root: "plain-store", capture: false, widgets: false });
        const run = await exp.start();
        run.log("loss", 0.5);
        await run.end();
        const table = await exp.runs();
        console.log(table.numRows(), table.get("status", 0), typeof table.orderby);
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const plain = await sh(process.execPath, ["-e", script], project, 60_000);
    assert.equal(plain.code, 0, plain.out);
    assert.equal(plain.out.trim().split("\n").pop(), "1 completed function");
  });

  it("labnote install --sys-prefix registers the kernels and the extension with a new venv's newest JupyterLab 4", { timeout: STEP_TIMEOUT }, async (t) => {
    const made = await sh("python3", ["-m", "venv", venv], tmp);
    assert.equal(made.code, 0, made.out);
    const pip = await sh(python, ["-m", "pip", "install", "--no-input", "jupyterlab>=4,<5", "nbclient>=0.10,<1", "nbformat>=5,<6", "jupyter_client>=8,<9"], tmp);
    assert.equal(pip.code, 0, pip.out.slice(-4000));
    const version = await sh(python, ["-c", "import jupyterlab; print(jupyterlab.__version__)"], tmp);
    assert.equal(version.code, 0, version.out);
    t.diagnostic(`JupyterLab ${version.out.trim()} (the newest 4.x pip installs here)`);

    const { code, out } = await sh("npx", ["--no", "labnote", "install", "--python", python, "--sys-prefix"], project);
    assert.equal(code, 0, out);

    const kernels = await sh(jupyter, ["kernelspec", "list", "--json"], project);
    assert.equal(kernels.code, 0, kernels.out);
    const specs = JSON.parse(kernels.out).kernelspecs;
    for (const k of ["tslab", "jslab"]) {
      assert.equal(specs[k]?.resource_dir, path.join(installed, "kernels", k), kernels.out);
    }
    // The kernel runs the project's own tslab, the one npm installed beside labnote.
    const argv0 = specs.tslab.spec.argv[0];
    assert.equal(fs.realpathSync(argv0), fs.realpathSync(path.join(project, "node_modules/tslab/bin/tslab")));

    const extensions = await sh(jupyter, ["labextension", "list"], project);
    assert.equal(extensions.code, 0, extensions.out);
    assert.match(withoutColours(extensions.out), /labnote-jupyterlab v0\.1\.0 enabled\s+OK/);
    assert.ok(fs.existsSync(path.join(installed, "labextensions/labnote-jupyterlab/package.json")));
  });

  it("a notebook beside the project's code runs through nbclient on the tslab kernel, and its run lands in the project's experiments/", { timeout: STEP_TIMEOUT }, async () => {
    fs.writeFileSync(
      path.join(project, "schedule.ts"),
      "/** The learning rate halved at every step. */\nexport function decay(lr: number, step: number): number {\n  return lr / 2 ** step;\n}\n",
    );
    const nbPath = path.join(project, "train.ipynb");
    fs.writeFileSync(
      nbPath,
      JSON.stringify(
        notebook([
          'import { experiment } from "labnote";\nimport { decay } from "./schedule";',
          'const exp = await experiment("packed", { config: { lr: 0.5, steps: 4 } });\n' +
            'const run = await exp.start({ name: "beside-the-code" });\n' +
            'for (let step = 0; step < run.config.steps; step++) run.log("loss", decay(run.config.lr, step), step);',
          'const table = await exp.runs();\nconsole.log(`runs: ${table.numRows()} ${table.get("status", 0)}`);',
        ]),
      ),
    );
    const { notebook: done, messages } = await executeNotebook(nbPath, { python, timeout: 180_000 });
    assert.match(streamText(messages[2]), /runs: 1 completed/, JSON.stringify(done.cells[2].outputs));

    const runDir = path.join(project, "experiments/packed/1");
    const record = JSON.parse(fs.readFileSync(path.join(runDir, "run.json"), "utf8"));
    assert.equal(record.status, "completed");
    assert.equal(record.name, "beside-the-code");
    const rows = fs.readFileSync(path.join(runDir, "metrics.csv"), "utf8").trim().split("\n");
    assert.equal(rows[0], "metric,step,value,time");
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(",").slice(0, 3).join(",")),
      ["loss,0,0.5", "loss,1,0.25", "loss,2,0.125", "loss,3,0.0625"],
    );
  });

  it("labnote uninstall with the same flags removes the kernels and the extension, and says so", { timeout: STEP_TIMEOUT }, async () => {
    const { code, out } = await sh("npx", ["--no", "labnote", "uninstall", "--python", python, "--sys-prefix"], project);
    assert.equal(code, 0, out);
    assert.match(out, /removed the kernel spec tslab/);
    assert.match(out, /removed the kernel spec jslab/);
    assert.match(out, /removed the extension labnote-jupyterlab/);

    const kernels = await sh(jupyter, ["kernelspec", "list", "--json"], project);
    assert.equal(kernels.code, 0, kernels.out);
    const specs = JSON.parse(kernels.out).kernelspecs;
    assert.equal(specs.tslab, undefined, kernels.out);
    assert.equal(specs.jslab, undefined, kernels.out);
    const extensions = await sh(jupyter, ["labextension", "list"], project);
    assert.equal(extensions.code, 0, extensions.out);
    assert.doesNotMatch(extensions.out, /labnote-jupyterlab/);

    const again = await sh("npx", ["--no", "labnote", "uninstall", "--python", python, "--sys-prefix"], project);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /nothing to remove/);
  });
});
