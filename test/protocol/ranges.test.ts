import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readSync, fstatSync, closeSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import {
  encodeColumn,
  estimateRange,
  IncrementalBuckets,
  metricFiles,
  parseMetricSummary,
  PROBE,
  rawWanted,
  readRange,
  sliceRange,
  type ColumnReader,
  type MetricSummaryFile,
} from "../../src/protocol";

const repo = path.resolve(__dirname, "..", "..");

/** A column's bytes and the summary the writer keeps of its first `summarized` points. */
function column(steps: number[], values: number[], times: number[], summarized = steps.length): { bytes: Uint8Array; summary: MetricSummaryFile } {
  const src = { count: summarized, step: (i: number) => steps[i], value: (i: number) => values[i], time: (i: number) => times[i] };
  const summary = new IncrementalBuckets().toSummary("loss", src, { count: summarized, lastStep: steps[summarized - 1], last: values[summarized - 1], min: 0, max: 1 });
  return { bytes: encodeColumn(steps, values, times), summary };
}

/** A reader over bytes, as the server answers Range requests: the file's length with every read; counted. */
function reader(bytes: Uint8Array): ColumnReader & { log: [number, number][] } {
  const log: [number, number][] = [];
  const read = (async (from: number, to: number) => {
    log.push([from, to]);
    return { bytes: bytes.subarray(Math.min(bytes.length, from * 24), Math.min(bytes.length, to * 24)), total: bytes.length };
  }) as ColumnReader & { log: [number, number][] };
  read.log = log;
  return read;
}

function series(n: number, stepOf: (i: number) => number): { steps: number[]; values: number[]; times: number[] } {
  const steps = Array.from({ length: n }, (_, i) => stepOf(i));
  return { steps, values: steps.map((s, i) => Math.sin(i / 7) + s * 1e-6), times: steps.map((_, i) => 1.7e12 + 3 * i) };
}

describe("raw points of a range of a metric column", () => {
  it("reads a 1,000-step window of a 1,000,000-point column in one range read of about 30 KB, exactly", async () => {
    const p = series(1_000_000, (i) => i);
    const { bytes, summary } = column(p.steps, p.values, p.times);
    const read = reader(bytes);
    const r = await readRange(read, summary, 500_000, 501_000, "step", 10_000);
    assert.equal(r.kind, "points");
    if (r.kind !== "points") return;
    assert.equal(r.reads, 1);
    assert.ok(r.bytes < 32_000, `${r.bytes} bytes`);
    // The points of the window and one on either side.
    assert.equal(r.from, 499_999);
    assert.equal(r.steps.length, 1003);
    for (let i = 0; i < r.steps.length; i++) {
      assert.equal(r.steps[i], p.steps[r.from + i]);
      assert.equal(r.values[i], p.values[r.from + i]);
      assert.equal(r.times[i], p.times[r.from + i]);
    }
    assert.equal(r.total, 1_000_000);
  });

  it("finds the boundaries of irregular steps with a few probes of 3 KB", async () => {
    let s = 0;
    let seed = 3;
    const p = series(200_000, () => (s += 1 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 40)));
    const { bytes, summary } = column(p.steps, p.values, p.times);
    const lo = p.steps[123_456] + 1;
    const hi = p.steps[124_000];
    const r = await readRange(reader(bytes), summary, lo, hi, "step", 10_000);
    assert.equal(r.kind, "points");
    if (r.kind !== "points") return;
    assert.equal(r.from, 123_456);
    assert.equal(r.steps[r.steps.length - 1], p.steps[124_001]);
    assert.ok(r.steps[1] >= lo && r.steps[0] < lo);
    assert.ok(r.reads <= 8, `${r.reads} reads`);
  });

  it("needs no summary: without one (or with a wrong one) it searches and still reads little", async () => {
    const p = series(1_000_000, (i) => 10 * i);
    const { bytes } = column(p.steps, p.values, p.times);
    const bare = await readRange(reader(bytes), undefined, 5_000_000, 5_010_000, "step", 10_000);
    assert.equal(bare.kind, "points");
    if (bare.kind !== "points") return;
    assert.equal(bare.from, 499_999);
    assert.equal(bare.steps.length, 1003);
    assert.ok(bare.reads <= 45 && bare.bytes < 200_000, `${bare.reads} reads, ${bare.bytes} bytes`);
    // A summary of another column (steps one apart) places the first read wrongly.
    const wrong = column(Array.from({ length: 1_000_000 }, (_, i) => i), p.values, p.times).summary;
    const r = await readRange(reader(bytes), wrong, 5_000_000, 5_010_000, "step", 10_000);
    assert.equal(r.kind, "points");
    if (r.kind === "points") assert.deepEqual([r.from, r.steps.length, r.steps[1]], [499_999, 1003, 5_000_000]);
  });

  it("reads by time as by step", async () => {
    const p = series(300_000, (i) => i);
    const { bytes, summary } = column(p.steps, p.values, p.times);
    const r = await readRange(reader(bytes), summary, p.times[1000], p.times[1999], "time", 10_000);
    assert.equal(r.kind, "points");
    if (r.kind === "points") assert.deepEqual([r.from, r.steps.length, r.reads], [999, 1002, 1]);
  });

  it("reads past the summary of a growing column, and leaves out a torn last point", async () => {
    const p = series(100_000, (i) => i);
    // The summary was written at 60,000 points; the file has 100,000 and half of one more.
    const { bytes, summary } = column(p.steps, p.values, p.times, 60_000);
    const torn = new Uint8Array(bytes.length + 12);
    torn.set(bytes);
    const r = await readRange(reader(torn), summary, 99_000, 200_000, "step", 10_000);
    assert.equal(r.kind, "points");
    if (r.kind !== "points") return;
    assert.equal(r.from, 98_999);
    assert.equal(r.steps.length, 1001);
    assert.equal(r.steps[r.steps.length - 1], 99_999);
    assert.equal(r.total, 100_000);
    // A window wholly past the end gives the last point alone.
    const past = await readRange(reader(torn), summary, 150_000, 160_000, "step", 10_000);
    assert.equal(past.kind, "points");
    if (past.kind === "points") assert.deepEqual([...past.steps], [99_999]);
  });

  it("gives the count and reads no data when a range holds more than it may read", async () => {
    const p = series(1_000_000, (i) => i);
    const { bytes, summary } = column(p.steps, p.values, p.times);
    const read = reader(bytes);
    const r = await readRange(read, summary, 0, 600_000, "step", 10_000);
    assert.equal(r.kind, "too-many");
    if (r.kind === "too-many") assert.equal(r.count, 600_001);
    assert.ok(read.log.every(([a, b]) => b - a <= PROBE), `reads: ${JSON.stringify(read.log)}`);
  });

  it("says so when the steps go down inside the range (logged out of order)", async () => {
    const steps = Array.from({ length: 5000 }, (_, i) => (i >= 2000 && i < 2010 ? 100 : i));
    const p = { steps, values: steps.map(() => 1), times: steps.map((_, i) => i) };
    const { bytes, summary } = column(p.steps, p.values, p.times);
    const r = await readRange(reader(bytes), summary, 1990, 2020, "step", 10_000);
    assert.equal(r.kind, "unordered");
  });

  it("slices points already in memory by the same rule, and estimates ranges from a summary", () => {
    const p = series(10_000, (i) => 2 * i);
    const s = sliceRange(p, 1001, 2000, "step");
    assert.ok(s);
    assert.deepEqual([s!.from, s!.steps.length, s!.steps[0], s!.steps[s!.steps.length - 1]], [500, 502, 1000, 2002]);
    const { summary } = column(p.steps, p.values, p.times);
    const e = estimateRange(summary, 1000, 2998, "step");
    assert.ok(e && Math.abs(e.points - 1000) <= 1 && e.width === 64, JSON.stringify(e));
    assert.equal(rawWanted(e, 700, 11_200, true), true);
    assert.equal(rawWanted(e, 700, 11_200, false), false, "not zoomed: the summary");
    assert.equal(rawWanted(estimateRange(summary, 0, 20_000, "step"), 200, 11_200, true), false, "buckets finer than 2 px");
    assert.equal(rawWanted(estimateRange(summary, 0, 20_000, "step"), 700, 5_000, true), false, "more points than it may read");
  });
});

describe("raw points of a column the library wrote", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "labnote-ranges-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a window of a 1,000,000-point run from its .f64 by byte ranges placed by its summary", async () => {
    const script = `
      const { experiment, whenWritten } = require(${JSON.stringify(path.join(repo, "src", "index.ts"))});
      (async () => {
        const exp = await experiment("zoom", { root: ${JSON.stringify(dir)}, capture: false });
        const run = await exp.start();
        for (let i = 0; i < 1000000; i++) run.log("loss", Math.sin(i / 1000) + i / 1e6);
        await run.end();
        await whenWritten();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const w = spawnSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: repo, encoding: "utf8", timeout: 120_000 });
    assert.equal(w.status, 0, w.stderr);
    const runDir = path.join(dir, "zoom", "1");
    const summary = parseMetricSummary(readFileSync(path.join(runDir, metricFiles.summary(0)), "utf8"));
    assert.ok(summary.ok);
    const fd = openSync(path.join(runDir, metricFiles.column(0)), "r");
    try {
      const size = fstatSync(fd).size;
      let reads = 0;
      const read: ColumnReader = async (from, to) => {
        reads++;
        const buf = Buffer.alloc(Math.max(0, Math.min(size, to * 24) - from * 24));
        readSync(fd, buf, 0, buf.length, from * 24);
        return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.length), total: size };
      };
      const r = await readRange(read, summary.ok ? summary.value : undefined, 700_000, 700_999, "step", 10_000);
      assert.equal(r.kind, "points");
      if (r.kind !== "points") return;
      assert.equal(reads, 1);
      assert.equal(r.steps[1], 700_000);
      assert.equal(r.steps.length, 1002);
      for (let i = 0; i < r.steps.length; i++) assert.equal(r.values[i], Math.sin(r.steps[i] / 1000) + r.steps[i] / 1e6);
    } finally {
      closeSync(fd);
    }
  });
});
