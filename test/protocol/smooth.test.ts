import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { elapsedUnit, emaOverSteps, IncrementalBuckets, logAxis, smoothingUnit, summarySeries, fromWire } from "../../src/protocol";

/** A series as the store keeps it: a summary of min/max buckets, from these points. */
function summaryOf(steps: number[], values: number[]) {
  const b = new IncrementalBuckets();
  const src = { count: steps.length, step: (i: number) => steps[i], value: (i: number) => values[i], time: (i: number) => 1000 + i };
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) if (Number.isFinite(v)) ((min = Math.min(min, v)), (max = Math.max(max, v)));
  return b.toSummary("loss", src, { count: steps.length, lastStep: steps[steps.length - 1], last: values[values.length - 1], min, max });
}

/** The summary's buckets as the chart draws them: first step, middle of min and max. */
function bucketMids(s: { step: number[]; min: unknown[]; max: unknown[] }): { steps: number[]; mids: (number | null)[] } {
  const mids = s.step.map((_, i) => {
    const lo = fromWire(s.min[i]);
    const hi = fromWire(s.max[i]);
    return Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : null;
  });
  return { steps: s.step, mids };
}

/** A decaying loss with noise that does not depend on how it is sampled. */
function loss(n: number): { steps: number[]; values: number[] } {
  const steps = Array.from({ length: n }, (_, i) => i);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2;
  return { steps, values: steps.map((s) => 2 * Math.exp(-s / (n / 4)) + 0.1 + noise()) };
}

describe("the moving average over steps", () => {
  it("gives the values back at 0 and is an ordinary debiased EMA for points one step apart", () => {
    assert.deepEqual(emaOverSteps([0, 1, 2], [3, 1, 2], 0), [3, 1, 2]);
    const out = emaOverSteps([0, 1, 2], [1, 2, 3], 0.5, 1);
    // num: 0.5·1; 0.25+0.5·2 = 1.25; 0.625+1.5 = 2.125; den: 0.5, 0.75, 0.875
    assert.deepEqual(out.map((x) => Math.round(x! * 1e9) / 1e9), [1, 1.25 / 0.75, 2.125 / 0.875].map((x) => Math.round(x * 1e9) / 1e9));
  });

  it("weights a point by the steps it stands for: one point 4 steps wide moves the average as 4 equal points", () => {
    const wide = emaOverSteps([0, 4, 5], [2, 6, 6], 0.8, 1);
    const dense = emaOverSteps([0, 1, 2, 3, 4], [2, 2, 2, 2, 6], 0.8, 1);
    assert.ok(Math.abs(wide[1]! - dense[4]!) < 1e-12, `${wide[1]} vs ${dense[4]}`);
  });

  it("skips NaN, ±Infinity and missing values, keeping the average", () => {
    const out = emaOverSteps([0, 1, 2, 3], [1, NaN, null, 1], 0.9);
    assert.equal(out[1], null);
    assert.equal(out[2], null);
    assert.ok(Math.abs(out[3]! - 1) < 1e-12);
    assert.deepEqual(emaOverSteps([0, 1], [Infinity, 2], 0.5), [null, 2]);
  });

  it("draws the same curve from a 100,000-point column and from its 256 or 64 summary buckets", () => {
    const { steps, values } = loss(100_000);
    const unit = smoothingUnit(steps[steps.length - 1] - steps[0]);
    assert.equal(unit, 99.999);
    const summary = summaryOf(steps, values);
    assert.ok(summary.buckets.step.length > 100 && summary.buckets.step.length <= 256);
    const full = emaOverSteps(steps, values, 0.95, unit);
    for (const buckets of [256, 64]) {
      const s = summarySeries(summary, buckets);
      const { steps: bs, mids } = bucketMids(s);
      const smooth = emaOverSteps(bs, mids, 0.95, unit);
      // A bucket's average takes in all of its points: compare with the column's at the bucket's last point.
      let worst = 0;
      for (let i = 1; i < bs.length - 1; i++) {
        const end = bs[i + 1] - 1;
        worst = Math.max(worst, Math.abs(smooth[i]! - full[end]!));
      }
      assert.ok(worst < 0.02, `${buckets} buckets: off by ${worst} (values span 2)`);
    }
    // The raw bucket middles are far noisier than that: the test can tell smoothing from none.
    const raw = bucketMids(summarySeries(summary, 256));
    let rawWorst = 0;
    for (let i = 1; i < raw.steps.length - 1; i++) rawWorst = Math.max(rawWorst, Math.abs(raw.mids[i]! - full[raw.steps[i + 1] - 1]!));
    assert.ok(rawWorst > 0.02, `raw ${rawWorst}`);
  });

  it("takes a thousandth of the span as its unit, at least one step", () => {
    assert.equal(smoothingUnit(100), 1);
    assert.equal(smoothingUnit(1_000_000), 1000);
    assert.equal(smoothingUnit(NaN), 1);
  });
});

describe("log-scale ticks", () => {
  it("labels powers of ten over several decades, 1-2-5 values over one, and refuses non-positive ranges", () => {
    assert.deepEqual(logAxis(0.003, 2.4), { domain: [0.002, 5], ticks: [0.01, 0.1, 1] });
    assert.deepEqual(logAxis(0.3, 2.4), { domain: [0.3, 3], ticks: [0.5, 1, 2] });
    assert.deepEqual(logAxis(0.2, 4.4), { domain: [0.2, 5], ticks: [0.2, 0.5, 1, 2, 5] });
    assert.deepEqual(logAxis(1e-8, 1e4)?.ticks, [1e-8, 1e-6, 1e-4, 0.01, 1, 100, 1e4]);
    assert.deepEqual(logAxis(0.31, 0.42)?.ticks, [0.3, 0.4, 0.5]);
    assert.equal(logAxis(0, 1), undefined);
    assert.equal(logAxis(-1, 1), undefined);
    assert.deepEqual(logAxis(5, 5)?.domain, [2, 10]);
    for (const [a, b] of [[1e-3, 7e5], [0.05, 0.5], [12, 19], [0.0071, 3]] as const) {
      const ax = logAxis(a, b)!;
      assert.ok(ax.domain[0] <= a && ax.domain[1] >= b && ax.ticks.length >= 2 && ax.ticks.length <= 7, JSON.stringify([a, b, ax]));
      assert.ok(ax.ticks.every((t, i) => i === 0 || t > ax.ticks[i - 1]));
    }
  });

  it("picks seconds, minutes or hours for time since start", () => {
    assert.equal(elapsedUnit(90_000).unit, "s");
    assert.equal(elapsedUnit(30 * 60_000).title, "time since start (min)");
    assert.equal(elapsedUnit(5 * 3_600_000).unit, "h");
  });
});
