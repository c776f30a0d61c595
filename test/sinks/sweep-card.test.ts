/**
 * The sweep card's bundle: every MIME type, the best trials first, the rest counted, and at
 * most 64 KB however many trials there are.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SWEEP_MIME, bestTrial, type SweepPayload, type SweepRecord, type SweepTrial } from "../../src/protocol";
import { MAX_BUNDLE_BYTES } from "../../src/sinks/notebook/card";
import { sweepBundle, sweepPayload } from "../../src/sinks/notebook/sweep-card";
import type { SweepView } from "../../src/core/sweep/view";
import { seededRandom } from "../../src/core/capture/seed";

const MIMES = [SWEEP_MIME, "application/vnd.vegalite.v5+json", "text/html", "text/plain"];

function view(n: number, options: { status?: SweepRecord["status"]; running?: boolean; params?: (i: number) => Record<string, unknown> } = {}): SweepView {
  const rng = seededRandom(3);
  const start = 1_700_000_000_000;
  const runs: SweepTrial[] = [];
  for (let i = 0; i < n; i++) {
    const params = options.params?.(i) ?? { lr: 1e-4 * Math.exp(rng() * Math.log(1000)), "model.hidden": [16, 32, 64][i % 3], optimizer: ["adam", "sgd"][i % 2] };
    const failed = i % 97 === 5;
    const t: SweepTrial = { trial: i, run: `big/${i + 1}`, params, status: failed ? "failed" : "completed", startTime: start + i * 1000, endTime: start + i * 1000 + 900 };
    if (!failed) t.value = rng();
    else t.error = "diverged";
    runs.push(t);
  }
  if (options.running) runs.push({ trial: n, run: `big/${n + 1}`, params: { lr: 0.01, "model.hidden": 16, optimizer: "adam" }, status: "running", startTime: start + n * 1000 });
  const rec: SweepRecord = {
    format: 1,
    id: "big/sweep-1",
    experiment: "big",
    number: 1,
    name: "big <one>",
    strategy: "random",
    space: { lr: { random: "log-uniform", min: 1e-4, max: 1e-1 }, "model.hidden": { choice: [16, 32, 64] }, optimizer: ["adam", "sgd"] },
    seed: 42,
    total: n + 10,
    metric: "val_loss",
    goal: "min",
    stopOnError: false,
    status: options.status ?? "running",
    startTime: start,
    updated: start + n * 1000,
    pid: 1,
    hostname: "h",
    runs,
    best: bestTrial(runs, "min"),
  };
  return { record: () => rec, current: () => (options.running ? { trial: runs[runs.length - 1], value: 0.5 } : undefined), keys: Object.keys(rec.space) };
}

function size(bundle: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(bundle), "utf8");
}

describe("the sweep card", () => {
  it("stays within 64 KB with 1,000 trials, the best 50 in its table and the rest counted", () => {
    const v = view(1000, { running: true });
    const bundle = sweepBundle(v, 1_700_000_000_000 + 1_000_500);
    for (const m of MIMES) assert.ok(bundle[m] !== undefined, `lacks ${m}`);
    assert.ok(size(bundle) <= MAX_BUNDLE_BYTES, `${size(bundle)} bytes`);
    const p = bundle[SWEEP_MIME] as SweepPayload;
    assert.equal(p.rows.length, 50);
    assert.equal(p.rest, 950);
    assert.equal(p.done, 1000);
    assert.equal(p.failed, 11);
    assert.equal(p.running, 1);
    assert.equal(p.total, 1010);
    assert.ok(p.lines.length >= 25, `${p.lines.length} lines in the chart`);
    const values = p.rows.map((r) => r.value as number);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), "best first");
    assert.equal(p.best?.run, p.rows[0].run);
    assert.equal(p.current?.run, "big/1001");
    // Time left: 10 trials at 0.9 s each, less what the running one has done.
    assert.ok(p.eta !== undefined && p.eta > 8 && p.eta < 9.1, `eta ${p.eta}`);
    const html = bundle["text/html"] as string;
    assert.match(html, /<progress value="1000" max="1010"/);
    assert.match(html, /and 950 more trials/);
    assert.match(html, /<svg[^>]*>.*<polyline/);
    assert.match(html, /big &lt;one&gt;/);
    assert.doesNotMatch(html, /big <one>/);
    const text = bundle["text/plain"] as string;
    assert.match(text, /1000\/1010 trials · 1 running · 11 failed/);
    assert.match(text, /best val_loss/);
    const vega = bundle["application/vnd.vegalite.v5+json"] as { layer: { data: { values: { axis: string }[] } }[] };
    assert.deepEqual([...new Set(vega.layer[0].data.values.map((d) => d.axis))], ["lr", "model.hidden", "optimizer", "val_loss"]);
  });

  it("fits 64 KB even when every trial's values are long", () => {
    const long = "x".repeat(2000);
    const bundle = sweepBundle(view(1000, { params: (i) => ({ note: `${long}${i}`, k: i }) }));
    assert.ok(size(bundle) <= MAX_BUNDLE_BYTES, `${size(bundle)} bytes`);
  });

  it("shows a sweep with no finished trial yet, and no time left once it ended", () => {
    const empty = sweepPayload(view(0, { running: true }));
    assert.equal(empty.rows.length, 0);
    assert.equal(empty.best, null);
    assert.equal(empty.eta, undefined);
    const html = (sweepBundle(view(0)) as Record<string, string>)["text/html"];
    assert.match(html, /0\/10 trials/);
    const done = sweepPayload(view(20, { status: "completed" }));
    assert.equal(done.eta, undefined);
  });
});
