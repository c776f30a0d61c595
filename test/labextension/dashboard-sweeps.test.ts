import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HistoryRun } from "../../labextension/src/model/store";
import { groupRuns, NO_SWEEP } from "../../labextension/src/dashboard/model";
import { goalColor } from "../../labextension/src/dashboard/parallel";
import { readSweeps, showsSweep, sweepQuery, sweepSummary } from "../../labextension/src/dashboard/sweeps";
import { parseRunRecord, sweepOfTags, sweepPath } from "../../src/protocol/index";
import { fakeContents, record } from "./fake-contents";

/** A sweep record as the kernel side writes it: a 2×2 grid over lr and model.hidden, one trial failed. */
function sweepJson(experiment: string, number: number, o: Record<string, unknown> = {}): string {
  const t0 = Date.now() - 60_000;
  const trial = (i: number, run: number, lr: number, hidden: number, status: string, value?: number) => ({
    trial: i,
    run: `${experiment}/${run}`,
    params: { lr, "model.hidden": hidden },
    status,
    ...(value === undefined ? {} : { value }),
    startTime: t0 + i * 1000,
    endTime: t0 + i * 1000 + 900,
  });
  return JSON.stringify({
    format: 1,
    id: `${experiment}/sweep-${number}`,
    experiment,
    number,
    name: number === 1 ? "lr-hidden" : null,
    strategy: "grid",
    space: { lr: [0.1, 0.01], "model.hidden": [16, 64] },
    seed: 42,
    total: 4,
    metric: "val_loss",
    goal: "min",
    stopOnError: false,
    status: "completed",
    startTime: t0,
    endTime: t0 + 4000,
    updated: t0 + 4000,
    pid: 1,
    hostname: "h",
    runs: [trial(0, 1, 0.1, 16, "completed", 0.9), trial(1, 2, 0.1, 64, "failed"), trial(2, 3, 0.01, 16, "completed", 0.4), trial(3, 4, 0.01, 64, "completed", 0.6)],
    ...o,
  });
}

function run(n: number, tags: string[], last: number): HistoryRun {
  const r = parseRunRecord(record("sw", n, { tags, metrics: { val_loss: { count: 3, lastStep: 2, last, min: last, max: 2 } } }));
  assert.ok(r.ok);
  return { id: r.record.id, record: r.record, dir: `e/sw/${n}`, config: new Map() };
}

describe("the dashboard's sweeps", () => {
  it("reads an experiment's sweep records through the contents API, newest first, and lists a damaged one apart", async () => {
    const contents = fakeContents({
      [`e/${sweepPath("sw", 1)}`]: sweepJson("sw", 1),
      [`e/${sweepPath("sw", 2)}`]: sweepJson("sw", 2, { status: "running" }),
      [`e/${sweepPath("sw", 3)}`]: "{ torn",
      "e/sw/_sweeps/notes.txt": "not a sweep",
      "e/sw/1/run.json": record("sw", 1),
    });
    const read = await readSweeps(contents, "e", "sw");
    assert.deepEqual(read.sweeps.map((s) => s.id), ["sw/sweep-2", "sw/sweep-1"]);
    assert.equal(read.unreadable.length, 1);
    assert.match(read.unreadable[0].reason, /not JSON/);
    assert.equal(read.sweeps[1].best?.run, "sw/3", "the best completed trial by the goal");
    assert.deepEqual(await readSweeps(contents, "e", "other"), { sweeps: [], unreadable: [] }, "no _sweeps folder: no sweeps");
  });

  it("says each sweep's name, strategy, trials done/failed/total, status and best value with its config", async () => {
    const read = await readSweeps(fakeContents({ [`e/${sweepPath("sw", 1)}`]: sweepJson("sw", 1), [`e/${sweepPath("sw", 2)}`]: sweepJson("sw", 2, { strategy: "random", seed: 7 }) }), "e", "sw");
    const [two, one] = read.sweeps.map(sweepSummary);
    assert.deepEqual(one, { id: "sw/sweep-1", name: "lr-hidden", strategy: "grid", progress: "4/4 · 1 failed", status: "completed", best: "val_loss 0.4 (min) · sw/3 · lr=0.01, model.hidden=16" });
    assert.equal(two.name, "sweep-2", "an unnamed sweep goes by its tag");
    assert.equal(two.strategy, "random (seed 7)");
  });

  it("filters by the sweep's tag in the query, with its experiment when several are shown, and knows when a query has left it", () => {
    const s = { experiment: "sw", number: 3 };
    assert.equal(sweepQuery(s, true), "tag:sweep-3");
    assert.equal(sweepQuery(s, false), "experiment=sw tag:sweep-3");
    assert.ok(showsSweep("experiment=sw tag:sweep-3", s));
    assert.ok(showsSweep("tag:sweep-3 lr<0.05", s), "a narrower query still shows the sweep");
    assert.ok(!showsSweep("tag:sweep-30", s));
    assert.ok(!showsSweep("experiment=other tag:sweep-3", s));
    assert.ok(!showsSweep("", s));
  });

  it("groups runs by sweep, with the group's best value by the goal; runs of no sweep apart", () => {
    const runs = [run(1, ["sweep-1"], 0.9), run(2, ["sweep-1", "keep"], 0.4), run(3, [], 0.1), run(4, ["sweep-2"], 0.7)];
    const groups = groupRuns(runs, { kind: "sweep" }, "val_loss", "min");
    assert.deepEqual(groups.map((g) => [g.label, g.runs.map((r) => r.id), g.best?.run]), [
      ["sweep-1", ["sw/1", "sw/2"], "sw/2"],
      [NO_SWEEP, ["sw/3"], "sw/3"],
      ["sweep-2", ["sw/4"], "sw/4"],
    ]);
    assert.equal(groupRuns(runs, { kind: "sweep" }, "val_loss", "max")[0].best?.run, "sw/1");
    assert.equal(sweepOfTags(["keep", "sweep-12"]), 12);
    assert.equal(sweepOfTags(["sweep-0", "sweeps-1", "sweep-x"]), undefined);
  });

  it("colours parallel lines from worse (orange) to better (green) by the goal", () => {
    assert.equal(goalColor(0, "min"), "rgb(24, 128, 56)", "lowest is best for min");
    assert.equal(goalColor(1, "min"), "rgb(227, 116, 0)");
    assert.equal(goalColor(1, "max"), "rgb(24, 128, 56)");
  });
});
