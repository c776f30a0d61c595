/**
 * `labnote install`, run as a user runs it, against the project's `.venv` Python.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot, venvPython } from "../helpers";

function labnote(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/cli/main.ts"), ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe("labnote", () => {
  it("lists its commands with --help", () => {
    const { code, out } = labnote("--help");
    assert.equal(code, 0);
    assert.match(out, /Usage: labnote <command>/);
    assert.match(out, /^ {2}install +register the tslab kernels/m);
  });

  it("rejects an unknown command with exit code 2", () => {
    const { code, out } = labnote("frobnicate");
    assert.equal(code, 2);
    assert.match(out, /unknown command "frobnicate"/);
  });
});

describe("labnote install", () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-install-"));
  after(() => fs.rmSync(prefix, { recursive: true, force: true }));

  it("registers the tslab and jslab kernels under --prefix, running this package's tslab", () => {
    const { code, out } = labnote("install", "--python", venvPython(), "--prefix", prefix);
    assert.equal(code, 0, out);
    const spec = JSON.parse(fs.readFileSync(path.join(prefix, "share/jupyter/kernels/tslab/kernel.json"), "utf8"));
    assert.equal(spec.language, "typescript");
    assert.equal(spec.argv[0], fs.realpathSync(path.join(repoRoot, "node_modules/tslab/bin/tslab")));
    assert.deepEqual(spec.argv.slice(1), ["kernel", "--config-path", "{connection_file}"]);
    const js = JSON.parse(fs.readFileSync(path.join(prefix, "share/jupyter/kernels/jslab/kernel.json"), "utf8"));
    assert.ok(js.argv.includes("--js"));
  });

  it("makes both kernels load labnote's preload (the session log from the first cell), unless --no-preload", () => {
    const preload = path.join(repoRoot, "lib/kernel/preload.js");
    assert.ok(fs.existsSync(preload), "lib/ is built");
    const { code, out } = labnote("install", "--python", venvPython(), "--prefix", prefix);
    assert.equal(code, 0, out);
    for (const name of ["tslab", "jslab"]) {
      const spec = JSON.parse(fs.readFileSync(path.join(prefix, `share/jupyter/kernels/${name}/kernel.json`), "utf8"));
      assert.deepEqual(spec.env, { NODE_OPTIONS: `--require ${JSON.stringify(preload)}` });
    }
    // Loading it outside a kernel does nothing and prints nothing.
    const plain = spawnSync(process.execPath, ["-e", "console.log(typeof globalThis.__tslab__)"], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(preload)}` } });
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout, "undefined\n");
    assert.equal(plain.stderr, "");
    const bare = labnote("install", "--python", venvPython(), "--prefix", prefix, "--no-preload");
    assert.equal(bare.code, 0, bare.out);
    const spec = JSON.parse(fs.readFileSync(path.join(prefix, "share/jupyter/kernels/tslab/kernel.json"), "utf8"));
    assert.equal(spec.env, undefined);
  });

  it("copies the built extension beside the kernels and checks that Jupyter lists it enabled and OK", (t) => {
    if (!fs.existsSync(path.join(repoRoot, "labextension/dist/package.json"))) {
      t.skip("labextension/dist is not built");
      return;
    }
    const { code, out } = labnote("install", "--python", venvPython(), "--prefix", prefix);
    assert.equal(code, 0, out);
    const installed = path.join(prefix, "share/jupyter/labextensions/labnote-jupyterlab/package.json");
    assert.ok(fs.existsSync(installed), out);
    assert.match(out, /labnote-jupyterlab v\S+ enabled OK/);
  });

  it("refuses two install locations at once", () => {
    const { code, out } = labnote("install", "--python", venvPython(), "--user", "--prefix", prefix);
    assert.equal(code, 2);
    assert.match(out, /choose one of --sys-prefix, --user, --prefix/);
  });

  it("says clearly when the Python has no Jupyter", () => {
    const { code, out } = labnote("install", "--python", "/nonexistent/python3");
    assert.equal(code, 1);
    assert.match(out, /cannot run Python "\/nonexistent\/python3"/);
  });
});

describe("labnote uninstall", () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-uninstall-"));
  after(() => fs.rmSync(prefix, { recursive: true, force: true }));
  const data = path.join(prefix, "share/jupyter");

  it("removes the tslab and jslab kernel specs and the extension that install put under the same --prefix", () => {
    const installed = labnote("install", "--python", venvPython(), "--prefix", prefix);
    assert.equal(installed.code, 0, installed.out);
    assert.ok(fs.existsSync(path.join(data, "labextensions/labnote-jupyterlab/package.json")), installed.out);
    const { code, out } = labnote("uninstall", "--python", venvPython(), "--prefix", prefix);
    assert.equal(code, 0, out);
    assert.match(out, /removed the kernel spec tslab/);
    assert.match(out, /removed the kernel spec jslab/);
    assert.equal(fs.existsSync(path.join(data, "kernels/tslab")), false);
    assert.equal(fs.existsSync(path.join(data, "kernels/jslab")), false);
    assert.match(out, /removed the extension labnote-jupyterlab/);
    assert.equal(fs.existsSync(path.join(data, "labextensions/labnote-jupyterlab")), false);
  });

  it("says there is nothing to remove, with exit code 0, where nothing is installed", () => {
    const { code, out } = labnote("uninstall", "--prefix", prefix);
    assert.equal(code, 0, out);
    assert.match(out, /nothing to remove: no tslab or jslab kernel spec and no labnote-jupyterlab extension in /);
    assert.match(out, /pass the --python and --sys-prefix, --user or --prefix that install was given/);
  });

  it("leaves a folder named tslab that holds no kernel.json in place", () => {
    const stray = path.join(data, "kernels/tslab");
    fs.mkdirSync(stray, { recursive: true });
    fs.writeFileSync(path.join(stray, "notes.txt"), "mine\n");
    const { code, out } = labnote("uninstall", "--prefix", prefix);
    assert.equal(code, 0, out);
    assert.match(out, /left .*kernels\/tslab in place: it has no kernel\.json/);
    assert.equal(fs.readFileSync(path.join(stray, "notes.txt"), "utf8"), "mine\n");
  });

  it("says clearly when the Python it is given cannot run", () => {
    const { code, out } = labnote("uninstall", "--python", "/nonexistent/python3", "--sys-prefix");
    assert.equal(code, 1);
    assert.match(out, /cannot run Python "\/nonexistent\/python3".*pass --python with the Python of your Jupyter/);
  });
});
