import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bestRecord, compareRuns, comparisonHtml, comparisonText, parseRunRecord, type ComparedRun, type RunRecord } from "../../src/protocol";

function rec(n: number, o: Record<string, unknown> = {}): RunRecord {
  const r = parseRunRecord({ format: 1, experiment: "e", number: n, status: "completed", startTime: 1, ...o });
  assert.ok(r.ok);
  return r.record;
}
const cell = (executionCount: number, source: string) => ({ executionCount, source, notebook: "/w/demo.ipynb" });
const trainV1 = "function train(lr) {\n  let w = 0;\n  w -= lr * w;\n  return w;\n}";
const trainV2 = "function train(lr) {\n  let w = 0;\n  w -= (lr / 2) * w;\n  return w;\n}";
const setup = cell(1, 'import { experiment } from "labnote";');
const runIt = "await exp.run((run) => train(run));";

describe("comparing runs", () => {
  const a: ComparedRun = { record: rec(1, { name: "a", config: { lr: 0.1, model: { hidden: 64 } }, metrics: { loss: { count: 3, lastStep: 2, last: 0.5, min: 0.4, max: 2 } } }), code: { source: "lineage", cells: [setup, cell(2, trainV1), cell(3, runIt)] } };
  const b: ComparedRun = {
    record: rec(2, { name: "b", config: { lr: 0.1, model: { hidden: 128 }, extra: true }, metrics: { acc: { count: 1, lastStep: 0, last: 0.9, min: 0.9, max: 0.9 } } }),
    code: { source: "lineage", cells: [setup, cell(2, trainV1), cell(3, runIt), cell(4, 'throw new Error("x");'), cell(5, trainV2), cell(6, runIt)] },
  };

  it("gives the config keys that differ (a key one run lacks differs), those the same, and every metric side by side", () => {
    const c = compareRuns([a, b]);
    assert.deepEqual(c.config.differing, [
      { key: "extra", values: [undefined, true] },
      { key: "model.hidden", values: [64, 128] },
    ]);
    assert.deepEqual(c.config.same, [{ key: "lr", value: 0.1 }]);
    assert.deepEqual(c.metrics.map((m) => [m.name, m.summaries.map((s) => s?.last ?? null)]), [["loss", [0.5, null]], ["acc", [null, 0.9]]]);
  });

  it("diffs the lineages: a function defined again, edited, shows as a changed cell with its line diff", () => {
    const [d] = compareRuns([a, b]).cells;
    assert.equal(d.same, 3);
    assert.deepEqual(d.changes.map((c) => [c.kind, c.from?.executionCount, c.to?.executionCount]), [["added", undefined, 4], ["changed", 2, 5], ["again", 3, 6]]);
    const text = comparisonText(compareRuns([a, b]));
    assert.match(text, /^Code e\/1 → e\/2: 3 cells differ, 3 the same$/m);
    assert.match(text, /^  --- e\/1 \[2\] demo\.ipynb\n  \+\+\+ e\/2 \[5\] demo\.ipynb\n  @@ -1,5 \+1,5 @@\n   function train\(lr\) \{\n     let w = 0;\n  -  w -= lr \* w;\n  \+  w -= \(lr \/ 2\) \* w;$/m);
    assert.match(text, /^  --- \/dev\/null\n  \+\+\+ e\/2 \[4\] demo\.ipynb\n  @@ -0,0 \+1 @@\n  \+throw new Error\("x"\);$/m);
    const html = comparisonHtml(compareRuns([a, b]));
    assert.match(html, /<div style="background:#ffebe9">-  w -= lr \* w;<\/div><div style="background:#e6ffec">\+  w -= \(lr \/ 2\) \* w;<\/div>/);
  });

  it("pairs cells edited in place, and says when the code is the same", () => {
    const x: ComparedRun = { record: rec(3), code: { source: "cells", cells: [cell(1, "const a = 1;"), cell(2, "go(a);")] } };
    const y: ComparedRun = { record: rec(4), code: { source: "cells", cells: [cell(7, "const a = 2;"), cell(8, "go(a);")] } };
    const [d] = compareRuns([x, y]).cells;
    assert.deepEqual(d.changes.map((c) => [c.kind, c.from?.executionCount, c.to?.executionCount]), [["changed", 1, 7]]);
    assert.match(comparisonText(compareRuns([x, x])), /^Code e\/3 → e\/3: the same \(2 cells\)$/m);
  });

  it("picks the best completed run by a metric's last value, passing over NaN and unfinished runs", () => {
    const m = (last: number) => ({ loss: { count: 1, lastStep: 0, last, min: last, max: last } });
    const runs = [rec(1, { metrics: m(0.5) }), rec(2, { metrics: m(0.1), status: "failed" }), rec(3, { metrics: m(NaN) }), rec(4, { metrics: m(0.3) }), rec(5, { metrics: m(0.3) }), rec(6)];
    assert.equal(bestRecord(runs, "loss", "min")?.number, 4, "ties go to the earlier run; a failed run is not finished");
    assert.equal(bestRecord(runs, "loss", "max")?.number, 1);
    assert.equal(bestRecord(runs, "acc", "max"), undefined);
  });
});
