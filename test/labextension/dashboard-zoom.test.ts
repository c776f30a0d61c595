import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { metricPlot, traceFromSummary, withRaw, xWindow } from "../../labextension/src/dashboard/plots";
import { contentTotal } from "../../labextension/src/model/points";
import { emaOverSteps, IncrementalBuckets, sliceRange, smoothingUnit } from "../../src/protocol/index";

/** A decaying loss with a fast wiggle, `n` points one step apart, and its summary as the writer keeps it. */
function run(n: number) {
  const steps = Array.from({ length: n }, (_, i) => i);
  const values = steps.map((i) => 1 / (1 + i / 20_000) + 0.1 * Math.sin(i / 40));
  const times = steps.map((i) => 1.7e12 + i);
  const src = { count: n, step: (i: number) => steps[i], value: (i: number) => values[i], time: (i: number) => times[i] };
  const summary = new IncrementalBuckets().toSummary("loss", src, { count: n, lastStep: n - 1, last: values[n - 1], min: 0, max: 2 });
  return { steps, values, times, summary };
}

describe("raw points in a zoomed dashboard chart", () => {
  it("maps the chart's x-domain to steps or times, whichever the axis shows", () => {
    assert.deepEqual(xWindow("step", [20, 10], 0, 1000), { key: "step", lo: 10, hi: 20 });
    assert.deepEqual(xWindow("wall", [5e12, 6e12], 0, 1000), { key: "time", lo: 5e12, hi: 6e12 });
    assert.deepEqual(xWindow("elapsed", [2, 3], 1e12, 60_000), { key: "time", lo: 1e12 + 120_000, hi: 1e12 + 180_000 });
  });

  it("puts the raw points in place of the buckets they fall in, marks them exact, and keeps the buckets around them", () => {
    const r = run(100_000);
    const trace = traceFromSummary(r.summary);
    const slice = sliceRange(r, 50_000, 51_000, "step")!;
    const t = withRaw(trace, slice, "step", 4000);
    assert.deepEqual(t.exact, [t.steps.indexOf(49_999), t.steps.indexOf(49_999) + 1003]);
    assert.ok(t.steps.every((s, i) => i === 0 || s > t.steps[i - 1]), "steps stay in order");
    assert.equal(t.steps[0], 0);
    assert.equal(t.steps[t.steps.length - 1], 99_999);
    const rows = metricPlot([{ label: "a", startTime: 1.7e12, trace: t }], { x: "step", smoothing: 0, log: false }).rows;
    const raw = rows.filter((row) => row.raw);
    assert.equal(raw.length, 1003);
    for (const row of raw) assert.equal(row.mid, r.values[row.step]);
    // Beyond the cap, the writer's min/max buckets instead (none marked exact).
    const capped = withRaw(trace, slice, "step", 300);
    assert.equal(capped.exact, undefined);
    assert.ok(capped.steps.length - trace.steps.length < 300);
  });

  it("smooths the raw points as the full column is smoothed: one rule at every zoom", () => {
    const r = run(200_000);
    const unit = smoothingUnit(199_999);
    const full = emaOverSteps(r.steps, r.values, 0.9, unit);
    const t = withRaw(traceFromSummary(r.summary), sliceRange(r, 120_000, 121_000, "step")!, "step", 4000);
    const rows = metricPlot([{ label: "a", startTime: 1.7e12, trace: t }], { x: "step", smoothing: 0.9, log: false }).rows.filter((row) => row.raw);
    // The history before the window came from buckets (their middles), so the averages agree
    // within a few percent of the wiggle's amplitude (0.1), not bit for bit.
    // The points in view, that is (the one beyond the view's right edge stands for the steps up to the next bucket).
    const inView = rows.filter((row) => row.step >= 120_000 && row.step <= 121_000);
    assert.equal(inView.length, 1001);
    for (const row of inView) assert.ok(Math.abs(row.smooth! - full[row.step]!) < 5e-3, `step ${row.step}: ${row.smooth} vs ${full[row.step]}`);
  });

  it("reads the file's length from a Content-Range header", () => {
    assert.equal(contentTotal("bytes 0-23/240"), 240);
    assert.equal(contentTotal("bytes */240"), 240);
    assert.equal(contentTotal(null), undefined);
    assert.equal(contentTotal("bytes 0-23/*"), undefined);
  });
});
