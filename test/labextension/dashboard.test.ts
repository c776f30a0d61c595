import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HistoryRun } from "../../labextension/src/model/store";
import { clickSelect, columnChoices, dashboardRows, groupRuns } from "../../labextension/src/dashboard/model";
import { brushedRuns, parallelAxes } from "../../labextension/src/dashboard/parallel";
import { parseRunRecord } from "../../src/protocol/index";
import { record } from "./fake-contents";

function run(n: number, o: Record<string, unknown> = {}, config: Record<string, string> = {}): HistoryRun {
  const r = parseRunRecord(record("demo", n, o));
  assert.ok(r.ok);
  return { id: r.record.id, record: r.record, dir: `e/demo/${n}`, config: new Map(Object.entries(config)) };
}

const loss = (last: number) => ({ loss: { count: 10, lastStep: 9, last, min: last, max: 1 } });

describe("the dashboard's table model", () => {
  it("offers every config key (varying ones first, shown) and each metric's last, min and max (last shown)", () => {
    const runs = [run(1, { metrics: loss(0.5) }, { lr: "0.1", seed: "1", "model.hidden": "64" }), run(2, { metrics: loss(0.2) }, { lr: "0.01", seed: "1", "model.hidden": "32" })];
    const choices = columnChoices(runs);
    const config = choices.filter((c) => c.group === "config");
    assert.deepEqual(config.map((c) => [c.column.label, c.varies, c.shown]), [["lr", true, true], ["model.hidden", true, true], ["seed", false, false]]);
    const metrics = choices.filter((c) => c.group === "metric");
    assert.deepEqual(metrics.map((c) => [c.column.label, c.shown]), [["loss.last", true], ["loss.min", false], ["loss.max", false]]);
    assert.equal(choices[0].column.id, "id");
  });

  it("filters with the query language and sorts by a metric summary", () => {
    const runs = [run(1, { metrics: loss(0.5), config: { lr: 0.1 } }, { lr: "0.1" }), run(2, { metrics: loss(0.2), config: { lr: 0.01 } }, { lr: "0.01" }), run(3, { metrics: loss(0.3), config: { lr: 0.001 } }, { lr: "0.001" })];
    const cols = columnChoices(runs).map((c) => c.column);
    assert.deepEqual(dashboardRows(runs, cols, "lr<0.05", { id: "metric:loss.last", desc: false }).map((r) => r.id), ["demo/2", "demo/3"]);
    assert.deepEqual(dashboardRows(runs, cols, "", { id: "metric:loss.last", desc: true }).map((r) => r.id), ["demo/1", "demo/3", "demo/2"]);
  });

  it("groups by a config key or by tag, with counts and the best value", () => {
    const runs = [
      run(1, { metrics: loss(0.5), tags: ["a"] }, { lr: "0.1" }),
      run(2, { metrics: loss(0.2), tags: ["a", "b"] }, { lr: "0.01" }),
      run(3, { metrics: loss(0.3) }, { lr: "0.1" }),
    ];
    const byLr = groupRuns(runs, { kind: "config", key: "lr" }, "loss");
    assert.deepEqual(byLr.map((g) => [g.label, g.runs.length, g.best?.value, g.best?.run]), [["lr=0.1", 2, 0.3, "demo/3"], ["lr=0.01", 1, 0.2, "demo/2"]]);
    const byTag = groupRuns(runs, { kind: "tag" }, "loss", "max");
    assert.deepEqual(byTag.map((g) => [g.label, g.runs.length, g.best?.value]), [["tag:a", 2, 0.5], ["tag:b", 1, 0.2], ["(no tag)", 1, 0.3]]);
  });

  it("ticks one box per click and a range with shift-click, as the clicked box now is", () => {
    const rows = ["a", "b", "c", "d", "e"].map((id) => ({ id }));
    let s = clickSelect(new Set(), rows, 1, undefined, false);
    assert.deepEqual([...s], ["b"]);
    s = clickSelect(s, rows, 3, 1, true);
    assert.deepEqual([...s].sort(), ["b", "c", "d"]);
    s = clickSelect(s, rows, 2, 3, false);
    assert.deepEqual([...s].sort(), ["b", "d"]);
    s = clickSelect(s, rows, 4, 2, true);
    assert.deepEqual([...s].sort(), ["b", "c", "d", "e"]);
    s = clickSelect(s, rows, 0, 4, true);
    assert.deepEqual([...s].sort(), ["b", "c", "d", "e", "a"].sort());
  });

  it("lays runs on parallel axes (numbers linear, the rest as categories) and keeps those inside every brush", () => {
    const runs = [
      run(1, { metrics: loss(0.5) }, { lr: "0.1", opt: '"adam"' }),
      run(2, { metrics: loss(0.2) }, { lr: "0.01", opt: '"sgd"' }),
      run(3, { metrics: loss(0.3) }, { lr: "0.05" }),
    ];
    const axes = parallelAxes(runs, ["config:lr", "config:opt", "metric:loss.last"]);
    assert.deepEqual(axes.map((a) => [a.label, a.kind]), [["lr", "num"], ["opt", "cat"], ["loss.last", "num"]]);
    assert.deepEqual(axes[0].positions.map((p) => Math.round(p! * 1000) / 1000), [1, 0, 0.444]);
    assert.deepEqual(axes[1].categories, ["adam", "sgd"]);
    assert.deepEqual(axes[1].positions, [0, 1, null]);
    assert.deepEqual(brushedRuns(axes, new Map([["config:lr", [0.3, 1] as [number, number]]]), 3), [true, false, true]);
    // A run without a value on a brushed axis is outside it.
    assert.deepEqual(brushedRuns(axes, new Map([["config:opt", [1, 0] as [number, number]]]), 3), [true, true, false]);
  });
});
