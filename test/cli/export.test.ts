import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";
import { METRICS_FORMAT, metricFiles, parseMetricsCsv } from "../../src/protocol";

const main = path.resolve(__dirname, "../../src/cli/main.ts");
const LIB = path.resolve(__dirname, "../../src");
function labnote(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", main, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("labnote export", () => {
  let root: string;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-export-"));
    const exp = await experiment("ex", { root, capture: false });
    await exp.run(async (run) => {
      for (let i = 0; i < 20_000; i++) run.log("loss", 1 / (i + 1));
      run.log({ "top-1, strict": 0.5, 'say "hi"': NaN, größe: -Infinity }, 3);
    });
    await whenWritten();
  });
  after(async () => {
    await whenWritten();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("prints a run's metrics.csv to stdout, the same text the store wrote after the run ended", () => {
    const r = labnote("export", "ex/1", "--to", "csv", "--root", root);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, fs.readFileSync(path.join(root, "ex/1/metrics.csv"), "utf8"));
    const points = parseMetricsCsv(r.out);
    assert.deepEqual([...points.keys()], ["loss", "top-1, strict", 'say "hi"', "größe"]);
    assert.equal(points.get("loss")!.steps.length, 20_000);
    assert.deepEqual(points.get("größe")!.values, [-Infinity]);
  });

  it("writes to --out atomically, from the columns alone when metrics.csv is gone", () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-export-copy-"));
    try {
      fs.cpSync(root, copy, { recursive: true });
      fs.rmSync(path.join(copy, "ex/1/metrics.csv"));
      const out = path.join(copy, "out.csv");
      const r = labnote("export", "ex/1", "--root", copy, "--out", out);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /wrote 20003 points of run ex\/1 to /);
      assert.equal(fs.readFileSync(out, "utf8"), fs.readFileSync(path.join(root, "ex/1/metrics.csv"), "utf8"));
      assert.deepEqual(fs.readdirSync(copy).sort(), ["ex", "out.csv"], "no temporary file left beside it");
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });

  it("exports a run of the previous format (metrics.csv only)", () => {
    const r = labnote("export", "mnist/1", "--root", path.join(__dirname, "../core/fixtures/store-format-1"));
    assert.equal(r.code, 0, r.err);
    const points = parseMetricsCsv(r.out);
    assert.deepEqual(points.get("acc")!.values, [0.5, NaN, Infinity]);
    assert.deepEqual(points.get('val/acc, top-1 "strict"')!.values, [0.25]);
  });

  it("with --experiment, writes metrics.csv into each finished run's folder that has none (a killed process), and leaves the others alone", { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-export-killed-"));
    try {
      const exp = await experiment("k", { root: dir, capture: false });
      await exp.run(async (run) => run.log("loss", 1));
      await whenWritten();
      const kept = path.join(dir, "k/1/metrics.csv");
      const before = fs.statSync(kept).mtimeMs;
      const script = `const { experiment } = require(${JSON.stringify(LIB)});
        (async () => { const exp = await experiment("k", { root: ${JSON.stringify(dir)}, capture: false });
          const run = await exp.start(); for (let i = 0; i < 5000; i++) run.log("loss", i); run.flush();
          setTimeout(() => process.stdout.write("ready\\n"), 400); setInterval(() => {}, 1000); })();`;
      const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
      assert.ok(!fs.existsSync(path.join(dir, "k/2/metrics.csv")), "a killed run has no metrics.csv");
      const r = labnote("export", "--experiment", "k", "--root", dir);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^k\/2: wrote .*k\/2\/metrics\.csv \(5000 points\)$/m);
      assert.doesNotMatch(r.out, /k\/1:/);
      assert.deepEqual(parseMetricsCsv(fs.readFileSync(path.join(dir, "k/2/metrics.csv"), "utf8")).get("loss")!.steps, Array.from({ length: 5000 }, (_, i) => i));
      assert.equal(fs.statSync(kept).mtimeMs, before);
      assert.match(labnote("export", "--experiment", "k", "--root", dir).out, /every finished run already has its metrics\.csv/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("streams a long run to CSV and JSON: 3M points export under a 40 MB heap, which could not hold them", { timeout: 180_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-export-long-"));
    try {
      const exp = await experiment("long", { root: dir, capture: false });
      const n = 3_000_000;
      await exp.run(async (run) => {
        for (let i = 0; i < n; i++) run.log("loss", 1 / (i + 1));
      });
      await whenWritten();
      for (const to of ["csv", "json"]) {
        const out = path.join(dir, `long.${to}`);
        const r = spawnSync(process.execPath, ["--max-old-space-size=40", "--import", "tsx", main, "export", "long/1", "--to", to, "--root", dir, "--out", out], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, `labnote export: wrote ${n} points of run long/1 to ${out}\n`, "piped: no progress bar");
        const fd = fs.openSync(out, "r");
        const tail = Buffer.alloc(200);
        const size = fs.fstatSync(fd).size;
        fs.readSync(fd, tail, 0, 200, size - 200);
        fs.closeSync(fd);
        if (to === "csv") assert.match(tail.toString(), new RegExp(`\nloss,${n - 1},${1 / n},\\d+\n$`));
        else assert.match(tail.toString(), /,\d+\]\}\}\}\]\}\n$/);
      }
      const head = fs.readFileSync(path.join(dir, "long.json"), "utf8").slice(0, 4000);
      assert.match(head, /^\{"format":1,"runs":\[\{"record":\{"format":1,"id":"long\/1".*"metrics":\{"loss":\{"count":3000000,"steps":\[0,1,2,3,/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says clearly what is wrong: an unknown run, a newer format, a bad flag", () => {
    const unknown = labnote("export", "ex/9", "--root", root);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^labnote export: No run ex\/9: ex has run 1$/m);
    const nope = labnote("export", "--experiment", "nope", "--root", root);
    assert.equal(nope.code, 2);
    assert.match(nope.err, /No experiment "nope" under .*: experiments: "ex"/);
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-cli-export-newer-"));
    try {
      fs.cpSync(root, copy, { recursive: true });
      fs.writeFileSync(path.join(copy, "ex/1", metricFiles.index), JSON.stringify({ format: METRICS_FORMAT + 1, metrics: [] }));
      const newer = labnote("export", "ex/1", "--root", copy);
      assert.equal(newer.code, 1);
      assert.match(newer.err, /Cannot read the metrics of run ex\/1: .*written by a newer labnote .*: update labnote/);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
    const bad = labnote("export", "ex/1", "--to", "parquet", "--root", root);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--to must be csv, json, notebook, script, tensorboard or mlflow, not "parquet"/);
    assert.equal(labnote("export", "--root", root).code, 2);
    assert.match(labnote("export", "ex/1", "--experiment", "ex").err, /a run id or --experiment, not both/);
  });
});
