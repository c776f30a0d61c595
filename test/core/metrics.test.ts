import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { experiment, isLabnoteError, whenWritten } from "../../src";
import { metricsCsvOf, tempDir } from "./tmp";
import { MIME, decode } from "../../src/protocol";
import { runState } from "../../src/core/run";
import { runBundle } from "../../src/sinks/notebook/card";

const quiet = { capture: false } as const;

describe("log", () => {
  it("appends a point per call; the step counts up per metric from 0", async () => {
    const exp = await experiment("m", { root: tempDir(), ...quiet });
    const run = await exp.start();
    run.log("loss", 0.5);
    run.log("loss", 0.4);
    run.log("acc", 0.1);
    run.log("loss", 0.3);
    assert.deepEqual(run.metric("loss").steps, [0, 1, 2]);
    assert.deepEqual(run.metric("loss").values, [0.5, 0.4, 0.3]);
    assert.deepEqual(run.metric("acc").steps, [0]);
    await run.end();
  });

  it("logs several metrics at one step, and continues counting from an explicit step", async () => {
    const exp = await experiment("m", { root: tempDir(), ...quiet });
    const run = await exp.start();
    run.log({ loss: 0.4, acc: 0.91 }, 7);
    run.log("loss", 0.3);
    assert.deepEqual(run.metric("loss").steps, [7, 8]);
    assert.deepEqual(run.metric("acc").steps, [7]);
    const t = run.metric("loss").times;
    assert.ok(t.every((x) => Math.abs(x - Date.now()) < 10_000));
    await run.end();
  });

  it("records NaN and ±Infinity faithfully, in memory, on disk and in the summary", async () => {
    const root = tempDir();
    const exp = await experiment("m", { root, ...quiet });
    const run = await exp.start();
    for (const v of [1, NaN, Infinity, -Infinity, 2, 1e308, -5e-324]) run.log("x", v);
    await run.end();
    const again = await exp.getRun(run.id);
    assert.deepEqual(again.metric("x").values, [1, NaN, Infinity, -Infinity, 2, 1e308, -5e-324]);
    await whenWritten();
    const csv = fs.readFileSync(path.join(root, "m/1/metrics.csv"), "utf8");
    assert.match(csv, /^x,1,NaN,/m);
    assert.match(csv, /^x,3,-Infinity,/m);
    const s = (await exp.history())[0].metrics.x;
    assert.equal(s.count, 7);
    assert.equal(s.min, -Infinity);
    assert.equal(s.max, Infinity);
    assert.equal(s.last, -5e-324);
  });

  it("counts NaN and infinite points in the summary and the card, and marks the chart buckets that hold them", async () => {
    const exp = await experiment("nan", { root: tempDir(), capture: false });
    const run = await exp.start();
    for (let i = 0; i < 1000; i++) run.log("loss", i === 500 || i === 600 ? NaN : i === 700 ? Infinity : 1 / (i + 1));
    const s = run.record().metrics.loss;
    assert.deepEqual([s.count, s.nan, s.posInf, s.negInf], [1000, 2, 1, undefined]);
    const bundle = runBundle(runState(run).view);
    const d = decode(MIME.run, bundle[MIME.run]);
    assert.ok(d.ok && d.payload.kind === "run");
    if (d.ok && d.payload.kind === "run") {
      const m = d.payload.metrics[0];
      assert.deepEqual([m.nan, m.posInf], [2, 1]);
      const bad = m.series.bad ?? [];
      assert.equal(bad.reduce((a, b) => a + b, 0), 3, "the chart's buckets count every non-finite point");
      // min and max of the buckets stay finite, so the line is drawn where the data is
      assert.ok(m.series.max.every((v) => typeof v === "number"));
    }
    assert.match(bundle["text/plain"] as string, /loss: .*2 NaN · 1 ∞/);
    assert.match(bundle["text/html"] as string, /2 NaN · 1 ∞/);
    await run.end();
    const [rec] = await exp.history();
    assert.deepEqual([rec.metrics.loss.nan, rec.metrics.loss.posInf], [2, 1]);
  });

  it("rejects a non-number with an error that names the metric", async () => {
    const exp = await experiment("m", { root: tempDir(), ...quiet });
    const run = await exp.start();
    for (const bad of ["0.5", 10n, null, undefined, {}, [1]]) {
      assert.throws(
        () => run.log("loss", bad as unknown as number),
        (e: unknown) => isLabnoteError(e) && e.code === "INVALID_VALUE" && e.message.includes('"loss"'),
      );
    }
    assert.throws(() => run.log({ ok: 1, acc: "x" as unknown as number }), /"acc"/);
    assert.throws(() => run.log("loss", 1, NaN), /step must be a finite number/);
    // nothing half-logged by the rejected calls
    assert.throws(() => run.metric("ok"), /No metric "ok"/);
    await run.end();
  });

  it("logMetrics logs whole lists", async () => {
    const exp = await experiment("m", { root: tempDir(), ...quiet });
    const run = await exp.start();
    run.logMetrics({ loss: [3, 2, 1], acc: new Float64Array([0.1, 0.2]) });
    assert.deepEqual(run.metric("loss"), { ...run.metric("loss"), steps: [0, 1, 2], values: [3, 2, 1] });
    assert.deepEqual(run.metric("acc").values, [0.1, 0.2]);
    assert.throws(() => run.logMetrics({ bad: [1, "2" as unknown as number] }), /"bad\[1\]"/);
    await run.end();
  });

  it("logHistogram stores bucket counts", async () => {
    const exp = await experiment("m", { root: tempDir(), ...quiet });
    const run = await exp.start();
    const values = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const h = run.logHistogram("w", [...values, NaN], undefined, 10);
    assert.equal(h.counts.length, 10);
    assert.equal(h.counts.reduce((a, b) => a + b, 0), 1000);
    assert.equal(h.nan, 1);
    run.logHistogram("w", [5, 5, 5]);
    await run.end();
    const again = await exp.getRun(1);
    const hs = again.histograms("w");
    assert.deepEqual(hs.map((x) => x.step), [0, 1]);
    assert.deepEqual(hs[1].counts.filter((c) => c > 0), [3]);
  });

  it("keeps a summary per metric (count, last, min, max) in the record", async () => {
    const exp = await experiment("m", { root: tempDir(), ...quiet });
    await exp.run(async (run) => {
      for (let i = 0; i < 100; i++) run.log("loss", 100 - i);
    });
    const [rec] = await exp.history();
    assert.deepEqual(rec.metrics.loss, { count: 100, lastStep: 99, last: 1, min: 1, max: 100 });
  });

  it("writes points to disk in batches while the run is open", async () => {
    const root = tempDir();
    const exp = await experiment("m", { root, ...quiet });
    const run = await exp.start();
    run.log("loss", 1);
    await new Promise((r) => setTimeout(r, 450));
    const csv = metricsCsvOf(path.join(root, "m/1"));
    assert.match(csv, /^metric,step,value,time\nloss,0,1,\d+\n$/);
    await run.end();
  });
});
