import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment } from "../../src";
import { tempDir } from "./tmp";
import { BLOBS_DIR } from "../../src/protocol";

function project(): string {
  const dir = tempDir("labnote-proj-");
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "proj", version: "1.2.3", dependencies: { leftpad: "^1.0.0" } }));
  fs.mkdirSync(path.join(dir, "src"));
  fs.writeFileSync(path.join(dir, "src/train.ts"), "export const lr = 0.1;\n");
  fs.writeFileSync(path.join(dir, "src/model.js"), "module.exports = 1;\n");
  fs.writeFileSync(path.join(dir, "notes.md"), "not a source\n");
  fs.mkdirSync(path.join(dir, "node_modules/leftpad"), { recursive: true });
  fs.writeFileSync(path.join(dir, "node_modules/leftpad/package.json"), JSON.stringify({ version: "1.3.0" }));
  fs.writeFileSync(path.join(dir, "node_modules/leftpad/index.js"), "x");
  fs.mkdirSync(path.join(dir, ".venv/lib"), { recursive: true });
  fs.writeFileSync(path.join(dir, ".venv/lib/big.js"), "x");
  return dir;
}

describe("capture", () => {
  it("records project sources once by content hash, skipping node_modules, hidden folders and the root", async () => {
    const dir = project();
    const root = path.join(dir, "experiments");
    const exp = await experiment("cap", { root, projectDir: dir, capture: { output: false } });
    await (await exp.start()).end();
    await (await exp.start()).end();
    const again = await exp.getRun(2);
    const files = again.sources().map((s) => s.path).sort();
    assert.deepEqual(files, ["package.json", "src/model.js", "src/train.ts"]);
    assert.equal(again.sources().find((s) => s.path === "src/train.ts")!.text(), "export const lr = 0.1;\n");
    const blobs = fs.readdirSync(path.join(root, BLOBS_DIR), { recursive: true }).filter((f) => String(f).length > 10);
    assert.equal(blobs.length, 3, "each distinct file stored once across both runs");
    fs.writeFileSync(path.join(dir, "src/train.ts"), "export const lr = 0.2;\n");
    await (await exp.start()).end();
    assert.equal((await exp.getRun(3)).sources().find((s) => s.path === "src/train.ts")!.text(), "export const lr = 0.2;\n");
  });

  it("tees stdout and stderr to the run's output log; the person still sees them", async () => {
    const dir = project();
    const script = path.join(dir, "print.ts");
    fs.writeFileSync(
      script,
      `import { experiment } from ${JSON.stringify(path.resolve(__dirname, "../../src"))};
       (async () => { const exp = await experiment("out", { root: ${JSON.stringify(path.join(dir, "experiments"))}, capture: { sources: false } });
         await exp.run(async () => { console.log("to stdout"); console.error("to stderr"); });
         console.log("after the run"); })();`,
    );
    const seen = execFileSync(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] }).toString();
    assert.match(seen, /to stdout\nafter the run/);
    const log = fs.readFileSync(path.join(dir, "experiments/out/1/output.log"), "utf8");
    assert.equal(log, "to stdout\n[stderr] to stderr\n");
  });

  it("records host, dependencies and custom host info", async () => {
    const dir = project();
    const exp = await experiment("cap", { root: path.join(dir, "experiments"), projectDir: dir, capture: { sources: false, output: false } });
    exp.addHostInfo("accelerator", () => "none");
    await (await exp.start()).end();
    const env = (await exp.getRun(1)).env() as any;
    assert.equal(env.host.hostname, os.hostname());
    assert.equal(env.host.node, process.version);
    assert.equal(env.host.cpu.count, os.cpus().length);
    assert.ok(env.host.memory.total > 0);
    assert.equal(env.host.accelerator, "none");
    assert.deepEqual(env.dependencies.dependencies.leftpad, { wanted: "^1.0.0", installed: "1.3.0" });
    assert.deepEqual(env.dependencies.project, { name: "proj", version: "1.2.3" });
  });

  it("records git commit, branch, remote and dirty state inside a repository", async () => {
    const dir = project();
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" }).toString().trim();
    git("init", "-q", "-b", "trunk");
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "one");
    git("remote", "add", "origin", "https://example.invalid/proj.git");
    const sha = git("rev-parse", "HEAD");
    const exp = await experiment("cap", { root: path.join(dir, "experiments"), projectDir: dir, capture: { sources: false, output: false } });
    await (await exp.start()).end();
    const g = ((await exp.getRun(1)).env() as any).git;
    assert.equal(g.commit, sha);
    assert.equal(g.branch, "trunk");
    assert.equal(g.remote, "https://example.invalid/proj.git");
    assert.equal(g.dirty, false);
    git("add", "src/train.ts");
    await (await exp.start()).end();
    assert.equal(((await exp.getRun(2)).env() as any).git.dirty, true);
  });

  it("switches each capture off", async () => {
    const dir = project();
    const root = path.join(dir, "experiments");
    const exp = await experiment("cap", { root, projectDir: dir, capture: false });
    await exp.run(async () => console.log("not captured"));
    const files = fs.readdirSync(path.join(root, "cap/1")).sort();
    assert.deepEqual(files, ["env.json", "run.json"]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, "cap/1/env.json"), "utf8")), {});
  });
});
