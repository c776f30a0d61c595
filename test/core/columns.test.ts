/**
 * The metrics store, format 2 (columns, index, summaries) and format 1 (metrics.csv only):
 * exact round trips, names of every kind, old stores, newer stores, and the pure decoders the
 * panel uses.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, isLabnoteError, whenWritten } from "../../src";
import {
  IncrementalBuckets,
  METRICS_FORMAT,
  columnPoints,
  decodeColumn,
  decodeColumnInto,
  encodeColumn,
  fromWire,
  metricFiles,
  parseMetricSummary,
  parseMetricsCsv,
  parseMetricsIndex,
  summarySeries,
  type MetricPoints,
} from "../../src/protocol";
import { tempDir } from "./tmp";

const fixtures = path.join(__dirname, "fixtures");
const main = path.resolve(__dirname, "../../src/cli/main.ts");
const venvPython = path.resolve(__dirname, "../../.venv/bin/python");

/** Every value the store must give back bit for bit (CSV loses only the sign of -0). */
const VALUES = [0, -0, 1, NaN, Infinity, -Infinity, 5e-324, -5e-324, 2.2250738585072014e-308, 1e308, -1.7976931348623157e308, 0.1 + 0.2, Math.PI, 1 / 3];
/** Steps up to and past 2^53, and far apart. */
const STEPS = [0, 1, 2 ** 31, 2 ** 32 + 1, 2 ** 53 - 2, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 60, 1e21, 1.5e300, 9e307, 1e308, 1.7e308];
/** Names labnote accepts that are hard for CSV and for file names. */
const NAMES = ["loss", "val/acc", "a,b", 'say "hi"', ' padded ', "größe", "损失", "emoji 📉", "x\\y", "../up", "=1+2", "comma, \"quote\" and / slash"];

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

describe("metrics format 2", () => {
  it("gives back NaN, ±Infinity, -0, subnormals and 2^53-scale steps exactly, under every kind of name; metrics.csv keeps all but the sign of -0", async () => {
    const root = tempDir();
    const exp = await experiment("rt", { root, capture: false });
    const run = await exp.start();
    for (const name of NAMES) for (let i = 0; i < VALUES.length; i++) run.log(name, VALUES[i], STEPS[i]);
    await run.end();
    const again = await exp.getRun(1);
    assert.deepEqual([...again.metrics().keys()], NAMES);
    for (const name of NAMES) {
      const p = again.metric(name);
      assert.ok(same(p.values, VALUES), `${name}: ${p.values}`);
      assert.ok(same(p.steps, STEPS), `${name}: ${p.steps}`);
      assert.ok(p.times.every((t) => Number.isInteger(t) && Math.abs(t - Date.now()) < 60_000));
      // the same points as float64 columns
      const c = again.columns(name);
      assert.ok(c.values instanceof Float64Array && c.steps instanceof Float64Array && c.times instanceof Float64Array);
      assert.ok(same([...c.values], VALUES), `${name} columns: ${c.values}`);
      assert.ok(same([...c.steps], STEPS));
      assert.deepEqual([...c.times], p.times);
    }
    assert.throws(() => again.columns("nope"), /No metric "nope" in run rt\/1/);
    // metrics.csv is written after end() returned; whenWritten() waits for it.
    await whenWritten();
    const csv = parseMetricsCsv(fs.readFileSync(path.join(root, "rt/1/metrics.csv"), "utf8"));
    assert.deepEqual([...csv.keys()], NAMES);
    for (const name of NAMES) {
      const p = csv.get(name)!;
      assert.ok(same(p.values, VALUES.map((v) => (Object.is(v, -0) ? 0 : v))), `${name} in CSV: ${p.values}`);
      assert.ok(same(p.steps, STEPS));
      assert.deepEqual(p.times, again.metric(name).times);
    }
  });

  it("keeps an index that names every column and says its format, and a summary per metric under 64 KB", async () => {
    const root = tempDir();
    const exp = await experiment("ix", { root, capture: false });
    await exp.run(async (run) => {
      for (let i = 0; i < 300_000; i++) run.log("loss", i === 1000 ? NaN : 1 / (i + 1));
      run.log("a,b", 1);
    });
    const dir = path.join(root, "ix/1");
    const index = JSON.parse(fs.readFileSync(path.join(dir, metricFiles.index), "utf8"));
    assert.deepEqual(index, { format: METRICS_FORMAT, metrics: [{ id: 0, name: "loss" }, { id: 1, name: "a,b" }] });
    assert.equal(fs.statSync(path.join(dir, metricFiles.column(0))).size, 300_000 * 24);
    const text = fs.readFileSync(path.join(dir, metricFiles.summary(0)), "utf8");
    assert.ok(text.length < 64 * 1024, `summary of ${text.length} bytes`);
    const s = parseMetricSummary(text);
    assert.ok(s.ok, !s.ok ? s.reason : "");
    if (!s.ok) return;
    assert.equal(s.value.count, 300_000);
    assert.equal(s.value.nan, 1);
    assert.ok(s.value.buckets.step.length <= 256);
    assert.deepEqual(s.value.lastPoint && [s.value.lastPoint.step, s.value.lastPoint.value], [299_999, 1 / 300_000]);
    // a chart drawn from the summary alone: as few buckets as asked, the envelope of every point, the last point exact
    const series = summarySeries(s.value, 100);
    assert.ok(series.step.length <= 100);
    assert.equal(Math.min(...series.min.map(fromWire).filter((x) => !Number.isNaN(x))), 1 / 300_000);
    assert.equal(Math.max(...series.max.map(fromWire).filter((x) => !Number.isNaN(x))), 1);
    assert.equal(series.step.at(-1), 299_999);
    assert.equal(series.max.at(-1), 1 / 300_000);
    assert.equal(series.bad?.reduce((a, b) => a + b, 0), 1, "the NaN point is counted in its bucket");
  });

  it("can be read with NumPy as the README says", { skip: !fs.existsSync(venvPython) && "no .venv (scripts/setup.sh makes it)" }, async () => {
    const root = tempDir();
    const exp = await experiment("np", { root, capture: false });
    await exp.run(async (run) => {
      for (let i = 0; i < VALUES.length; i++) run.log("x", VALUES[i], STEPS[i]);
    });
    const file = path.join(root, "np/1", metricFiles.column(0));
    const out = execFileSync(venvPython, ["-c", `import numpy as np, json; a = np.fromfile(${JSON.stringify(file)}, "<f8").reshape(-1, 3); print(json.dumps([[repr(float(x)) for x in a[:, 0]], [repr(float(x)) for x in a[:, 1]], bool(np.signbit(a[1, 1]))]))`], { encoding: "utf8" });
    const [steps, values, negZero] = JSON.parse(out) as [string[], string[], boolean];
    const py = (s: string) => (s === "nan" ? NaN : s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s));
    assert.ok(same(steps.map(py), STEPS));
    assert.ok(same(values.map(py).map((v, i) => (i === 1 ? -0 : v)), VALUES));
    assert.equal(negZero, true, "-0 keeps its sign in the column");
  });

  it("refuses metrics written by a newer labnote with an error that says to update, instead of misreading them", async () => {
    const root = tempDir();
    const exp = await experiment("new", { root, capture: false });
    await exp.run(async (run) => run.log("loss", 1));
    fs.writeFileSync(path.join(root, "new/1", metricFiles.index), JSON.stringify({ format: METRICS_FORMAT + 1, metrics: [{ id: 0, name: "loss" }] }));
    const again = await exp.getRun(1);
    assert.throws(
      () => again.metric("loss"),
      (e: unknown) => isLabnoteError(e) && e.code === "STORE_READ" && /new\/1/.test(e.message) && /written by a newer labnote/.test(e.message) && /update labnote/.test(e.message),
    );
    const summary = parseMetricSummary({ format: METRICS_FORMAT + 1, name: "loss" });
    assert.ok(!summary.ok && /written by a newer labnote.*update labnote/.test(summary.reason));
    // the record itself still reads: history lists the run
    assert.equal((await exp.history()).length, 1);
  });
});

describe("a store written by the previous version (format 1: metrics.csv only)", () => {
  it("still reads through exp.history(), getRun().metric() and labnote runs", async () => {
    const root = path.join(tempDir(), "old");
    fs.cpSync(path.join(fixtures, "store-format-1"), root, { recursive: true });
    const exp = await experiment("mnist", { root, capture: false });
    const records = await exp.history();
    assert.deepEqual(records.map((r) => [r.id, r.name, r.status]), [
      ["mnist/1", "baseline", "completed"],
      ["mnist/2", "bad", "failed"],
    ]);
    assert.deepEqual(records[0].metrics.acc, { count: 3, lastStep: 2, last: Infinity, min: 0.5, max: Infinity, nan: 1, posInf: 1 });
    const run = await exp.getRun(1);
    assert.deepEqual(run.metric("loss").values, [0.9, 0.5, 0.25]);
    assert.deepEqual(run.metric("acc").values, [0.5, NaN, Infinity]);
    assert.deepEqual(run.metric('val/acc, top-1 "strict"').values, [0.25]);
    assert.deepEqual(run.metric("größe").values, [-1.5e-300]);
    assert.deepEqual(run.columns("acc").values, new Float64Array([0.5, NaN, Infinity]));
    assert.deepEqual(run.columns("loss").steps, new Float64Array([0, 1, 2]));
    assert.deepEqual((await exp.getRun(2)).metric("loss").steps, [0]);
    const r = spawnSync(process.execPath, ["--import", "tsx", main, "runs", "--root", root, "--experiment", "mnist"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^mnist — 2 runs in /);
    assert.match(r.stdout, /^1\s+baseline\s+completed\s/m);
    assert.match(r.stdout, /^2\s+bad\s+failed\s/m);
    assert.equal(r.stderr, "");
    // reading never writes: no format-2 files appear in an old store
    assert.ok(!fs.existsSync(path.join(root, "mnist/1/metrics")));
  });
});

describe("the column decoders (shared with the panel)", () => {
  const steps = [0, 1, 2 ** 53];
  const values = [-0, NaN, 5e-324];
  const times = [1, 2, 3];

  it("encode and decode every float64 exactly, and leave a torn last point out", () => {
    const bytes = encodeColumn(steps, values, times);
    assert.equal(bytes.byteLength, 72);
    const torn = new Uint8Array(bytes.byteLength + 20);
    torn.set(bytes);
    const d = decodeColumn(torn);
    assert.equal(d.torn, 20);
    assert.ok(same([...d.steps], steps) && same([...d.values], values) && same([...d.times], times));
    const p = columnPoints(torn);
    assert.ok(same(p.steps, steps) && same(p.values, values) && same(p.times, times));
  });

  it("decode bytes that do not start on an 8-byte boundary (a slice of a larger buffer)", () => {
    const bytes = encodeColumn(steps, values, times);
    const big = new Uint8Array(bytes.byteLength + 3);
    big.set(bytes, 3);
    const view = big.subarray(3);
    const d = decodeColumn(view);
    assert.ok(same([...d.values], values));
    const into: MetricPoints = { steps: [9], values: [9], times: [9] };
    assert.equal(decodeColumnInto(view, into, 1), 3);
    assert.ok(same(into.values, [9, ...values]));
  });

  it("parse an index, and say what is wrong with one that is not", () => {
    assert.deepEqual(parseMetricsIndex('{"format":2,"metrics":[{"id":0,"name":"a,b"},{"id":-1,"name":"bad"}]}'), { ok: true, value: { format: 2, metrics: [{ id: 0, name: "a,b" }] } });
    assert.deepEqual(parseMetricsIndex('{"format":2,"metr'), { ok: false, reason: "metrics/index.json is not valid JSON" });
    assert.equal(parseMetricsIndex([]).ok, false);
    const newer = parseMetricsIndex({ format: 99 });
    assert.ok(!newer.ok && /newer labnote \(metrics format 99; this one reads up to 2\): update labnote/.test(newer.reason));
  });

  it("turn a summary into a chart series the same way the card folds its buckets", () => {
    const n = 10_000;
    const src = { count: n, step: (i: number) => i * 10, value: (i: number) => (i % 97 === 0 ? Infinity : Math.sin(i)), time: (i: number) => 1000 + i };
    const summary = new IncrementalBuckets().toSummary("s", src, { count: n, lastStep: (n - 1) * 10, last: src.value(n - 1), min: -1, max: 1 });
    const fromCard = new IncrementalBuckets().toWire(src, 64);
    const fromSummary = summarySeries(summary, 64);
    assert.ok(fromSummary.step.length <= 64);
    assert.deepEqual(fromSummary.step.at(-1), fromCard.step.at(-1));
    assert.deepEqual(fromSummary.max.at(-1), fromCard.max.at(-1));
    const total = (s: { bad?: number[] }) => (s.bad ?? []).reduce((a, b) => a + b, 0);
    assert.equal(total(fromSummary), total(fromCard), "every non-finite point is counted once, as on the card");
    assert.equal(summary.buckets.time[0], 1000);
    assert.deepEqual(summarySeries({ ...summary, count: 0, buckets: { step: [], time: [], min: [], max: [] }, lastPoint: undefined }), { step: [], min: [], max: [] });
  });
});
