/** The sweep record's parser, sweep ids, ranking trials, and the card payload's decoder. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bestTrial, decodeSweepPayload, parallelLayout, parseSweepId, parseSweepRecord, rankTrials, sortSweepRows, type SweepPayload, type SweepRow, type SweepTrial } from "../../src/protocol";

const trial = (i: number, value: number | string | undefined, status: SweepTrial["status"] = "completed"): SweepTrial => ({
  trial: i,
  run: `e/${i + 1}`,
  params: { lr: 0.1 * (i + 1), act: i % 2 ? "relu" : "tanh" },
  status,
  startTime: 1000 + i,
  ...(value === undefined ? {} : { value: value as number }),
});

function record(runs: SweepTrial[]): Record<string, unknown> {
  return { format: 1, id: "e/sweep-2", experiment: "e", number: 2, name: "n", strategy: "grid", space: { lr: [0.1, 0.2] }, seed: 9, total: 4, metric: "loss", goal: "min", stopOnError: false, status: "running", startTime: 1, updated: 2, pid: 3, hostname: "h", runs, best: null };
}

describe("sweep records", () => {
  it("parses a record and works out its best trial from the trials, not from what the file says", () => {
    const r = parseSweepRecord(JSON.stringify(record([trial(0, 0.5), trial(1, 0.2), trial(2, undefined, "failed"), trial(3, "NaN")])));
    assert.ok(r.ok);
    assert.equal(r.record.best?.run, "e/2");
    assert.equal(r.record.runs.length, 4);
    assert.equal(r.record.runs[3].value, "NaN");
  });

  it("says why a file is not a sweep record, and never throws", () => {
    const cases: [unknown, RegExp][] = [
      ["{", /not JSON/],
      [[], /not a JSON object/],
      [{ ...record([]), format: 2 }, /format 2 is newer/],
      [{ ...record([]), strategy: "bayes" }, /unknown strategy/],
      [{ ...record([]), status: "done" }, /unknown status/],
      [{ ...record([]), runs: [{ trial: 0 }] }, /a trial has no run id/],
      [{ ...record([]), runs: {} }, /no runs list/],
    ];
    for (const [input, reason] of cases) {
      const r = parseSweepRecord(typeof input === "string" ? input : JSON.stringify(input));
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, reason);
    }
  });

  it("reads sweep ids in every spelling, and refuses another experiment's", () => {
    assert.equal(parseSweepId("e", "e/sweep-3"), 3);
    assert.equal(parseSweepId("e", "sweep-3"), 3);
    assert.equal(parseSweepId("e", "3"), 3);
    assert.equal(parseSweepId("e", 3), 3);
    for (const bad of ["f/sweep-3", "sweep-0", "x", 1.5, null]) assert.throws(() => parseSweepId("e", bad), /Invalid sweep id/);
  });

  it("ranks trials best first for either goal, trials without a finite value last", () => {
    const ts = [trial(0, 0.5), trial(1, undefined, "failed"), trial(2, 0.1), trial(3, "Infinity"), trial(4, 0.9)];
    assert.deepEqual(rankTrials(ts, "min").map((t) => t.trial), [2, 0, 4, 1, 3]);
    assert.deepEqual(rankTrials(ts, "max").map((t) => t.trial), [4, 0, 2, 1, 3]);
    assert.equal(bestTrial(ts, "max")?.trial, 4, "an infinite value is no best");
    assert.equal(bestTrial([trial(0, 0.1, "interrupted")], "min"), null);
  });
});

const row = (i: number, value: number | null, params: Record<string, unknown>): SweepRow => ({ trial: i, run: `e/${i + 1}`, status: "completed", params, value });

function payload(o: Partial<SweepPayload> = {}): SweepPayload {
  const rows = [row(0, 0.3, { lr: 0.1, act: "relu" }), row(1, 0.1, { lr: 0.01, act: "tanh" }), row(2, null, { lr: 1, act: "gelu" }), row(3, 0.2, { lr: 0.001, act: "relu" })];
  return { v: 1, kind: "sweep", id: "e/sweep-1", experiment: "e", name: null, strategy: "random", status: "running", metric: "loss", goal: "min", seed: 4, keys: ["lr", "act"], total: 10, done: 4, failed: 0, running: 1, startTime: 1, sentAt: 2, best: rows[1], current: null, rows, rest: 0, lines: rows.filter((r) => r.value !== null), ...o };
}

describe("the sweep card's payload", () => {
  it("decodes what the kernel sends, and refuses malformed or newer payloads with a reason", () => {
    const p = payload({ eta: 12 });
    assert.deepEqual(decodeSweepPayload(JSON.parse(JSON.stringify(p))), { ok: true, payload: p });
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...p, v: 2 }, /version 2/],
      [{ ...p, kind: "run" }, /not a sweep payload/],
      [{ ...p, rows: [{ trial: "x" }] }, /malformed row/],
      [{ ...p, done: "4" }, /no done/],
      [{ ...p, best: { run: 1 } }, /malformed best/],
    ];
    for (const [input, reason] of bad) {
      const d = decodeSweepPayload(input);
      assert.equal(d.ok, false);
      if (!d.ok) assert.match(d.reason, reason);
    }
  });

  it("sorts the table by the metric or a key, either way, empty values last", () => {
    const p = payload();
    assert.deepEqual(sortSweepRows(p.rows, null, "asc").map((r) => r.trial), [1, 3, 0, 2]);
    assert.deepEqual(sortSweepRows(p.rows, null, "desc").map((r) => r.trial), [0, 3, 1, 2]);
    assert.deepEqual(sortSweepRows(p.rows, "lr", "asc").map((r) => r.trial), [3, 1, 0, 2]);
    assert.deepEqual(sortSweepRows(p.rows, "act", "desc").map((r) => r.trial), [1, 0, 3, 2]);
  });

  it("lays out parallel coordinates: an axis per key then the metric, the best line on top", () => {
    const { axes, lines } = parallelLayout(payload(), 640, 180);
    assert.deepEqual(axes.map((a) => a.key), ["lr", "act", "loss"]);
    assert.equal(lines.length, 3);
    assert.equal(lines[lines.length - 1].run, "e/2");
    assert.ok(lines[lines.length - 1].best);
    for (const l of lines) assert.equal(l.points.length, 3);
    // lr spans 100×: a log axis, so 0.01 sits halfway between 0.001 and 0.1.
    const lrY = (run: string) => lines.find((l) => l.run === run)!.points[0][1];
    assert.ok(Math.abs(lrY("e/2") - (lrY("e/1") + lrY("e/4")) / 2) < 0.2);
    // The best trial sits at the bottom of the metric axis (lowest loss).
    assert.equal(lines.find((l) => l.run === "e/2")!.points[2][1], axes[2].bottom);
  });
});
