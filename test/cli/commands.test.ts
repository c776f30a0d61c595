/**
 * The labnote command against a store made by real runs: ls (table, --json, --csv, --filter),
 * show, compare, export --to json, where the store is found, and the errors ("did you mean",
 * exit code 2; an unknown option is an error).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { experiment, whenWritten } from "../../src";
import { blobPath, parseMetricsCsv, type RunComparison, type RunRecord } from "../../src/protocol";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
/** tsx by its path: the commands run in other working directories. */
const tsx = pathToFileURL(path.resolve(__dirname, "../../node_modules/tsx/dist/loader.mjs")).href;
function labnote(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const env = { ...process.env, LABNOTE_DIR: "", ...options.env };
  const r = spawnSync(process.execPath, ["--import", tsx, main, ...args], { encoding: "utf8", cwd: options.cwd, env, maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("the labnote command", () => {
  let dir: string;
  let root: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-commands-"));
    root = path.join(dir, "notebooks", "experiments");
    const exp = await experiment("sweep", { root, capture: false, config: { optimizer: { name: "adam", lr: 0.01 }, model: { hidden: 64 }, epochs: 3 } });
    await exp.run(async (run) => [1, 0.5, 0.25].forEach((v) => run.log("loss", v)), { name: "adam-small", tags: ["v1"] });
    await exp.run(async (run) => [2, 0.1, 0.05].forEach((v) => run.log("loss", v)), { name: "adam-big", config: { "model.hidden": 128, "optimizer.lr": 0.001 }, tags: ["v1"] });
    await exp.run(async (run) => [3, 0.2, 0.01].forEach((v) => run.log("loss", v)), { name: "sgd", config: { "optimizer.name": "sgd", "optimizer.lr": 0.05 }, tags: ["v2"] });
    await exp
      .run(async (run) => {
        run.log("loss", NaN);
        throw new Error("diverged");
      }, { name: "bad", config: { "optimizer.lr": 5 } })
      .catch(() => undefined);
    await experiment("other", { root, capture: false }).then((e) => e.run(async (run) => run.log("acc", 0.5)));
    await whenWritten();
  });
  after(async () => {
    await whenWritten();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("ls prints number, name, status, start, duration, the config that varies and the metrics", () => {
    const r = labnote(["ls", "sweep", "--root", root]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.match(lines[0], /^sweep — 4 runs in .*experiments\/sweep$/);
    assert.match(lines[1], /^#\s+name\s+status\s+started\s+duration\s+model\.hidden\s+optimizer\.lr\s+optimizer\.name\s+loss$/, "epochs does not vary: no column");
    assert.match(lines[3], /^1\s+adam-small\s+completed\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\S+ s\s+64\s+0\.01\s+adam\s+0\.25$/);
    assert.match(lines[6], /^4\s+bad\s+failed\s.*\s5\s+adam\s+NaN$/);
    const both = labnote(["ls", "--root", root]);
    assert.match(both.out, /^other — 1 run in /m);
    assert.match(both.out, /^sweep — 4 runs in /m);
  });

  it("ls --filter keeps the runs that match the query, --json and --csv print them", () => {
    const ids = (filter: string) => (JSON.parse(labnote(["ls", "sweep", "--root", root, "--json", "--filter", filter]).out) as RunRecord[]).map((x) => x.number);
    assert.deepEqual(ids("lr<0.02"), [1, 2]);
    assert.deepEqual(ids("hidden=64 status=completed"), [1, 3]);
    assert.deepEqual(ids("hidden 128"), [2]);
    assert.deepEqual(ids("tag:v1 loss.min<0.1"), [2]);
    assert.deepEqual(ids("name~adam"), [1, 2]);
    assert.deepEqual(ids("optimizer.name=sgd"), [3]);
    assert.deepEqual(ids("failed"), [4]);
    const table = labnote(["ls", "sweep", "--root", root, "--filter", "lr<0.02"]);
    assert.match(table.out, /^sweep — 2 runs matching the filter in /);
    const none = labnote(["ls", "sweep", "--root", root, "--filter", "lr>100"]);
    assert.equal(none.code, 0);
    assert.match(none.out, /\(no run matches\)/);
    const csv = labnote(["ls", "sweep", "--root", root, "--csv"]);
    const head = csv.out.split("\n")[0];
    assert.match(head, /^id,number,name,status,tags,startTime,endTime,duration,config\.epochs,config\.model\.hidden,config\.optimizer\.lr,config\.optimizer\.name,loss\.last,loss\.min,loss\.max$/);
    assert.match(csv.out.split("\n")[4], /^sweep\/4,4,bad,failed,,.*,NaN,NaN,NaN$/);
  });

  it("ls --filter says where a filter is wrong, and which key no run has (exit 2)", () => {
    const bad = labnote(["ls", "sweep", "--root", root, "--filter", "lr<<0.1"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.err, 'labnote ls: Invalid filter: unexpected "<" in the value of lr; quote the value if it holds one at column 4\n  lr<<0.1\n     ^\n');
    const typo = labnote(["ls", "sweep", "--root", root, "--filter", "hiden=64"]);
    assert.equal(typo.code, 2);
    assert.match(typo.err, /no run has a config key or metric "hiden"; did you mean "hidden"\?/);
  });

  it("show prints config with modified keys marked, metrics, artifacts, host and code; --json has them all", () => {
    const r = labnote(["show", "sweep/2", "--root", root]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^sweep\/2  adam-big  completed\n/);
    assert.match(r.out, /^  \* model\.hidden\s+128$/m);
    assert.match(r.out, /^  \* optimizer\.lr\s+0\.001$/m);
    assert.match(r.out, /^    epochs\s+3$/m);
    assert.match(r.out, /^  loss\s+0\.05\s+0\.05\s+2\s+3\s+2$/m);
    assert.match(r.out, /^Code: no notebook cells recorded/m);
    const json = JSON.parse(labnote(["show", "sweep/4", "--root", root, "--json"]).out);
    assert.equal(json.record.status, "failed");
    assert.equal(json.record.error.message, "diverged");
    assert.equal(json.record.metrics.loss.last, "NaN", "non-finite numbers as the records write them");
    assert.deepEqual(json.code, { source: "cells", cells: [] });
    assert.deepEqual(json.config.find((e: { key: string }) => e.key === "optimizer.lr"), { key: "optimizer.lr", value: "5", modified: true, added: false });
  });

  it("compare prints the config diff and the metrics side by side; --json gives { runs, config, metrics, cells }", () => {
    const r = labnote(["compare", "sweep/1", "sweep/3", "--root", root]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Comparing sweep\/1 \(adam-small\), sweep\/3 \(sgd\)$/m);
    assert.match(r.out, /^Config: 2 keys differ, 2 the same$/m);
    assert.match(r.out, /^  optimizer\.lr\s+0\.01\s+0\.05$/m);
    assert.match(r.out, /^  loss\.last\s+0\.25\s+0\.01$/m);
    const c = JSON.parse(labnote(["compare", "sweep/1", "sweep/2", "sweep/3", "--root", root, "--json"]).out) as RunComparison;
    assert.deepEqual(c.runs.map((x) => x.id), ["sweep/1", "sweep/2", "sweep/3"]);
    assert.deepEqual(c.config.differing.map((d) => d.key), ["model.hidden", "optimizer.lr", "optimizer.name"]);
    assert.deepEqual(c.config.differing[0].values, [64, 128, 64]);
    assert.deepEqual(c.metrics[0].summaries.map((s) => s?.min), [0.25, 0.05, 0.01]);
    assert.equal(c.cells.length, 2);
    assert.equal(labnote(["compare", "sweep/1", "--root", root]).code, 2);
  });

  it("export --to json writes records and metrics (a run, or an experiment), --out atomically", () => {
    const one = JSON.parse(labnote(["export", "sweep/4", "--to", "json", "--root", root]).out);
    assert.equal(one.format, 1);
    assert.equal(one.runs[0].record.id, "sweep/4");
    assert.deepEqual(one.runs[0].metrics.loss.values, ["NaN"]);
    const out = path.join(dir, "sweep.json");
    const r = labnote(["export", "sweep", "--to", "json", "--root", root, "--out", out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^labnote export: wrote 10 points of 4 runs to /);
    const all = JSON.parse(fs.readFileSync(out, "utf8"));
    assert.deepEqual(all.runs.map((x: { record: RunRecord }) => x.record.number), [1, 2, 3, 4]);
    assert.deepEqual(all.runs[1].metrics.loss.values, [2, 0.1, 0.05]);
    assert.deepEqual(all.runs[1].metrics.loss.steps, [0, 1, 2]);
    const csv = labnote(["export", "sweep", "--to", "csv", "--root", root]).out;
    assert.match(csv, /^run,metric,step,value,time\nsweep\/1,loss,0,1,\d+\n/);
    assert.equal(csv.trim().split("\n").length, 11);
    assert.deepEqual(parseMetricsCsv(labnote(["export", "sweep/2", "--root", root]).out).get("loss")!.values, [2, 0.1, 0.05]);
    const nowhere = labnote(["export", "sweep/1", "--to", "json", "--root", root, "--out", path.join(dir, "no/such/dir/x.json")]);
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.err, /Cannot write .*x\.json: the folder .*no\/such\/dir does not exist/);
  });

  it("finds the store: --root, LABNOTE_DIR, ./experiments, else the nearest experiments/ below, named on stderr", () => {
    const searched = labnote(["ls", "sweep", "--json"], { cwd: dir });
    assert.equal(searched.code, 0, searched.err);
    assert.equal(searched.err, `store: ${root}\n`);
    assert.equal(JSON.parse(searched.out).length, 4);
    const env = labnote(["ls", "other", "--json"], { cwd: os.tmpdir(), env: { LABNOTE_DIR: root } });
    assert.equal(env.code, 0, env.err);
    assert.equal(env.err, "");
    const here = labnote(["ls", "--json"], { cwd: path.join(dir, "notebooks") });
    assert.equal(here.err, "", "./experiments is used without a word");
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-nostore-"));
    try {
      fs.mkdirSync(path.join(empty, "node_modules", "pkg", "experiments", "x"), { recursive: true });
      fs.writeFileSync(path.join(empty, "node_modules", "pkg", "experiments", "x", "experiment.json"), "{}");
      const none = labnote(["ls"], { cwd: empty });
      assert.equal(none.code, 2);
      assert.match(none.err, /^labnote ls: No store found: looked at --root \(not given\), LABNOTE_DIR \(not set\), .*experiments \(none\), and for an experiments\/ folder .* below .*; pass --root DIR or set LABNOTE_DIR$/m);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    const missing = labnote(["ls", "--root", path.join(dir, "notebook")]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /No store at .*notebook \(--root\): it does not exist; did you mean "notebooks"\?/);
  });

  it("says what exists when an id or experiment is wrong (did you mean, exit 2), and refuses unknown options", () => {
    const exp = labnote(["show", "swep/1", "--root", root]);
    assert.equal(exp.code, 2);
    assert.equal(exp.err, `labnote show: No experiment "swep" under ${root}: did you mean "sweep"? (experiments: "other", "sweep")\n`);
    const run = labnote(["show", "sweep/9", "--root", root]);
    assert.equal(run.code, 2);
    assert.equal(run.err, "labnote show: No run sweep/9: sweep has runs 1–4\n");
    const bare = labnote(["show", "2", "--root", root]);
    assert.equal(bare.code, 2);
    assert.match(bare.err, /Ambiguous run id "2": name the experiment too, e.g\. other\/2/);
    const lsExp = labnote(["ls", "sweeps", "--root", root]);
    assert.equal(lsExp.code, 2);
    assert.match(lsExp.err, /did you mean "sweep"\?/);
    for (const cmd of ["ls", "show", "compare", "export", "rm", "restore", "gc", "runs"]) {
      const r = labnote([cmd, "--colour", "--root", root]);
      assert.equal(r.code, 2, cmd);
      assert.match(r.err, new RegExp(`^labnote ${cmd}: Invalid command line: unknown option --colour\\n\\nUsage: labnote ${cmd}`), cmd);
      const help = labnote([cmd, "--help"]);
      assert.equal(help.code, 0, cmd);
      assert.match(help.out, new RegExp(`^Usage: labnote ${cmd} `), cmd);
      assert.match(help.out, /--root DIR/, cmd);
    }
  });

  it("shows a run's cells with their sources from the blobs", () => {
    // A run recorded with cells, as a kernel writes them: the source stored once as a blob.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-cells-"));
    try {
      fs.cpSync(root, copy, { recursive: true });
      const file = path.join(copy, "sweep/1/run.json");
      const rec = JSON.parse(fs.readFileSync(file, "utf8"));
      const sha = "ab".repeat(32);
      fs.mkdirSync(path.dirname(path.join(copy, blobPath(sha))), { recursive: true });
      fs.writeFileSync(path.join(copy, blobPath(sha)), "const x = train(0.01);\nconsole.log(x);\n");
      rec.cells = [{ executionCount: 7, sha256: sha, startTime: rec.startTime, endTime: rec.startTime + 350, ok: true, notebook: "/work/spirals.ipynb" }];
      fs.writeFileSync(file, JSON.stringify(rec));
      const r = labnote(["show", "sweep/1", "--root", copy]);
      assert.match(r.out, /^Code: the 1 cell that ran while the run was open/m);
      assert.match(r.out, /^  \[7\] spirals\.ipynb · ok · 0\.35 s\n      const x = train\(0\.01\);\n      console\.log\(x\);$/m);
      assert.doesNotMatch(labnote(["show", "sweep/1", "--root", copy, "--no-source"]).out, /train/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
