import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { experiment, whenWritten } from "../../src";
import { RunStore, type HistoryRun } from "../../labextension/src/model/store";
import { colorSlots, metricPlot, runTraces, scatterData, skippedText, traceFromPoints, traceFromSummary, type Trace } from "../../labextension/src/dashboard/plots";
import { base64Bytes, csvTable, heatColor, jsonTable, previewKind } from "../../labextension/src/dashboard/preview";
import { environmentFacts, tailLines } from "../../labextension/src/dashboard/detail";
import { parseRunRecord } from "../../src/protocol/index";
import { fakeContents, record } from "./fake-contents";

const alive = { dead: () => false };

function run(n: number, o: Record<string, unknown> = {}, config: Record<string, string> = {}): HistoryRun {
  const r = parseRunRecord(record("demo", n, o));
  assert.ok(r.ok);
  return { id: r.record.id, record: r.record, dir: `e/demo/${n}`, config: new Map(Object.entries(config)) };
}

/** Every file of a store written by the library, as the contents API would serve it (text; .f64 left out: the dashboard never reads them). */
function served(root: string, prefix: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      const rel = path.relative(root, full);
      if (e.isDirectory()) walk(full);
      else if (!e.name.endsWith(".f64") && !skip(rel)) files[`${prefix}/${rel}`] = fs.readFileSync(full, "utf8");
    }
  };
  walk(root);
  return files;
}

const trace = (steps: number[], values: (number | null)[], t0 = 1000): Trace => ({ steps, times: steps.map((s) => t0 + 10 * s), lo: values, hi: values, bad: steps.map(() => 0) });

describe("the dashboard's charts", () => {
  it("puts step, wall time or time since start on the x-axis, with its title", () => {
    const t = [{ label: "demo/1", startTime: 1000, trace: trace([0, 10, 20], [3, 2, 1]) }];
    assert.deepEqual(metricPlot(t, { x: "step", smoothing: 0, log: false }).rows.map((r) => r.x), [0, 10, 20]);
    const wall = metricPlot(t, { x: "wall", smoothing: 0, log: false });
    assert.deepEqual([wall.xTitle, wall.xTemporal, wall.rows.map((r) => r.x)], ["wall time", true, [1000, 1100, 1200]]);
    const since = metricPlot(t, { x: "elapsed", smoothing: 0, log: false });
    assert.deepEqual([since.xTitle, since.rows.map((r) => r.x)], ["time since start (s)", [0, 0.1, 0.2]]);
  });

  it("smooths over steps, keeping the raw middle as the shadow, and leaves out values ≤ 0 on a log axis, counting them", () => {
    const t = [{ label: "a", startTime: 1000, trace: trace([0, 1, 2, 3], [4, 0, -1, 2]) }];
    const raw = metricPlot(t, { x: "step", smoothing: 0, log: false });
    assert.deepEqual(raw.rows.map((r) => r.smooth), [4, 0, -1, 2]);
    const smooth = metricPlot(t, { x: "step", smoothing: 0.9, log: false });
    assert.deepEqual(smooth.rows.map((r) => r.mid), [4, 0, -1, 2]);
    assert.ok(smooth.rows[3].smooth! > 1 && smooth.rows[3].smooth! < 4);
    const log = metricPlot(t, { x: "step", smoothing: 0, log: true });
    assert.equal(log.skipped, 2);
    assert.deepEqual(log.rows.map((r) => r.mid), [4, null, null, 2]);
    assert.deepEqual(log.logY, { domain: [2, 4], ticks: [2, 3, 4] });
    assert.equal(skippedText(log.skipped), "2 buckets with values ≤ 0 left out (log scale)");
    assert.equal(skippedText(0), "");
  });

  it("draws a run's summaries and, for a run without them, its metrics.csv reduced the same way: the same smoothed curve", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "labnote-dash-charts-"));
    try {
      const exp = await experiment("curves", { root, capture: false });
      const r1 = await exp.start({ name: "long" });
      let seed = 3;
      const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.1;
      for (let i = 0; i < 50_000; i++) r1.log("loss", Math.exp(-i / 10_000) + noise());
      r1.log("acc", 0.5);
      r1.log("acc", 0.9);
      await r1.end();
      await whenWritten();
      const format2 = new RunStore(fakeContents(served(root, "e")), "e");
      // The same run as one written before the summaries: metrics.csv only.
      const format1 = new RunStore(fakeContents(served(root, "e", (rel) => rel.split(path.sep).includes("metrics"))), "e");
      const [a, b] = await Promise.all([format2, format1].map(async (s) => (await s.runs("curves", alive)) as { ok: true; runs: HistoryRun[] }));
      const fromSummary = await runTraces(format2, a.runs[0]);
      const fromCsv = await runTraces(format1, b.runs[0]);
      assert.deepEqual([...fromSummary.keys()].sort(), ["acc", "loss"]);
      assert.deepEqual([...fromCsv.keys()].sort(), ["acc", "loss"]);
      const loss2 = fromSummary.get("loss")!;
      assert.ok(loss2.steps.length <= 257 && loss2.steps[loss2.steps.length - 1] === 49_999, "buckets, then the last point exact");
      const settings = { x: "step" as const, smoothing: 0.95, log: false };
      const p2 = metricPlot([{ label: "x", startTime: a.runs[0].record.startTime, trace: loss2 }], settings);
      const p1 = metricPlot([{ label: "x", startTime: b.runs[0].record.startTime, trace: fromCsv.get("loss")! }], settings);
      assert.equal(p1.rows.length, p2.rows.length);
      const worst = Math.max(...p1.rows.map((r, i) => Math.abs(r.smooth! - p2.rows[i].smooth!)));
      assert.ok(worst < 1e-9, `the two smoothed curves differ by ${worst}`);
      // Two points: each is its own bucket.
      assert.deepEqual(fromSummary.get("acc")!.lo, [0.5, 0.9]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("turns a summary's buckets into a trace with the last point on its own, NaN buckets as gaps", () => {
    const t = traceFromSummary({ format: 2, name: "l", count: 5, lastStep: 4, last: 1, min: 1, max: 5, width: 2, buckets: { step: [0, 2], time: [10, 12], min: [4, "NaN"], max: [5, "NaN"], bad: [0, 2] }, lastPoint: { step: 4, value: 1, time: 14 } });
    assert.deepEqual(t, { steps: [0, 2, 4], times: [10, 12, 14], lo: [4, null, 1], hi: [5, null, 1], bad: [0, 2, 0] });
    const p = traceFromPoints("l", { steps: [0, 1, 2], values: [3, 2, 1], times: [5, 6, 7] });
    assert.deepEqual([p.steps, p.lo, p.times], [[0, 1, 2], [3, 2, 1], [5, 6, 7]]);
  });
});

describe("the dashboard's scatter", () => {
  it("plots a numeric config key against a metric summary, counts runs without either, and colours the selected runs", () => {
    const runs = [
      run(1, { metrics: { loss: { count: 3, lastStep: 2, last: 0.5, min: 0.2, max: 2 } } }, { lr: "0.1" }),
      run(2, { metrics: { loss: { count: 3, lastStep: 2, last: 0.3, min: 0.1, max: 2 } } }, { lr: "0.01" }),
      run(3, { metrics: {} }, { lr: "0.001" }),
      run(4, { metrics: { loss: { count: 3, lastStep: 2, last: "NaN", min: 0.1, max: 2 } } }, {}),
    ];
    const d = scatterData(runs, "lr", "loss", "min", new Map([["demo/2", "#f28e2b"]]));
    assert.equal(d.xKind, "num");
    assert.deepEqual(d.points.map((p) => [p.id, p.x, p.y, p.color !== ""]), [["demo/1", 0.1, 0.2, false], ["demo/2", 0.01, 0.1, true]]);
    assert.equal(d.missing, 2);
  });

  it("keeps a run's chart colour while it stays selected; a newly selected run takes the first free one", () => {
    let slots = colorSlots(new Map(), ["a", "b", "c"]);
    assert.deepEqual([...slots], [["a", 0], ["b", 1], ["c", 2]]);
    slots = colorSlots(slots, ["a", "c"]);
    slots = colorSlots(slots, ["d", "a", "c", "e"]);
    assert.deepEqual(Object.fromEntries(slots), { a: 0, c: 2, d: 1, e: 3 });
  });

  it("treats text values as categories, in natural order", () => {
    const runs = ["sgd", "adam", "adam10", "adam2"].map((o, i) => run(i + 1, { metrics: { loss: { count: 1, lastStep: 0, last: i, min: i, max: i } } }, { opt: JSON.stringify(o) }));
    const d = scatterData(runs, "opt", "loss", "last");
    assert.equal(d.xKind, "cat");
    assert.deepEqual(d.categories, ["adam", "adam2", "adam10", "sgd"]);
    assert.equal(d.nonPositive.y, 1);
  });
});

describe("the run detail's previews", () => {
  it("picks a preview by format, media type and extension", () => {
    const k = (file: string, format = "file", mediaType = "application/octet-stream") => previewKind({ file, format, mediaType });
    assert.deepEqual(
      [k("artifacts/a.png", "file", "image/png"), k("artifacts/w.npy", "npy"), k("artifacts/t.csv", "csv", "text/csv"), k("artifacts/m.json", "json", "application/json"), k("artifacts/notes.txt", "text", "text/plain"), k("artifacts/x.bin", "bytes")],
      ["image", "npy", "csv", "json", "text", "none"],
    );
    // run.addArtifact("plot.png", { name: "samples" }) keeps the file as artifacts/samples: its source still says png.
    assert.equal(previewKind({ file: "artifacts/samples", format: "file", mediaType: "application/octet-stream", source: "/work/plot.png" }), "image");
  });

  it("shows the first 100 rows of a CSV, quoted fields and all, and says how many there are", () => {
    const text = "epoch,name,loss\n" + Array.from({ length: 250 }, (_, i) => `${i},"a, b ""${i}""",${1 / (i + 1)}`).join("\n") + "\n";
    const t = csvTable(text);
    assert.deepEqual(t.header, ["epoch", "name", "loss"]);
    assert.equal(t.rows.length, 100);
    assert.equal(t.total, 250);
    assert.deepEqual(t.rows[3], ["3", 'a, b "3"', "0.25"]);
    assert.deepEqual(csvTable("a\tb\n1\t2\n", 100, true).rows, [["1", "2"]]);
  });

  it("lays JSON out as a table: records by key, lists by index, objects by key", () => {
    assert.deepEqual(jsonTable([{ a: 1, b: "x" }, { a: 2, c: { d: 1 } }]), { header: ["a", "b", "c"], rows: [["1", "x", ""], ["2", "", '{"d":1}']], total: 2 });
    assert.deepEqual(jsonTable([3, null]), { header: ["index", "value"], rows: [["0", "3"], ["1", "null"]], total: 2 });
    assert.deepEqual(jsonTable({ lr: 0.1, layers: [64, 32] }), { header: ["key", "value"], rows: [["lr", "0.1"], ["layers", "[64,32]"]], total: 2 });
    assert.equal(jsonTable(42), undefined);
    assert.equal(jsonTable(Array.from({ length: 150 }, (_, i) => i))?.rows.length, 100);
  });

  it("decodes the contents API's base64, and colours a heatmap from dark violet to yellow", () => {
    assert.deepEqual([...base64Bytes(Buffer.from([0x93, 0x4e, 0, 255]).toString("base64"))], [0x93, 0x4e, 0, 255]);
    assert.deepEqual(heatColor(0), [68, 1, 84]);
    assert.deepEqual(heatColor(1), [253, 231, 37]);
    assert.deepEqual(heatColor(NaN), [68, 1, 84]);
  });

  it("keeps the end of the output log and reads host and git facts from env.json", () => {
    const log = Array.from({ length: 450 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const t = tailLines(log);
    assert.equal(t.lines.length, 200);
    assert.equal(t.lines[199], "line 449");
    assert.equal(t.dropped, 250);
    assert.deepEqual(tailLines(""), { lines: [], dropped: 0 });
    const env = { host: { hostname: "box", os: "Linux 6.1", arch: "x64", cpu: { model: "EPYC", count: 2 }, memory: { total: 8 * 1024 ** 3 }, node: "v20.20.0", user: "me", pid: 7 }, git: { root: "/src", commit: "abc123", branch: "main", dirty: true } };
    const f = environmentFacts(env);
    assert.deepEqual(f.host.map(([k]) => k), ["host", "user", "os", "arch", "cpu", "memory", "node", "pid"]);
    assert.deepEqual(f.host[4], ["cpu", "2 × EPYC"]);
    assert.deepEqual(f.git, [["commit", "abc123"], ["branch", "main"], ["working tree", "dirty (uncommitted changes)"], ["repository", "/src"]]);
    assert.deepEqual(environmentFacts(null), { host: [], git: [] });
  });
});
