import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codeBlobs, codeOf, parseSessionLog, type CellRecord } from "../../src/protocol";

const sha = (c: string) => c.repeat(64);
const log = parseSessionLog(
  [
    JSON.stringify({ format: 1, session: "s1", pid: 1, hostname: "h", startTime: 0, from: "kernel" }),
    JSON.stringify({ i: 0, executionCount: 1, sha256: sha("a"), startTime: 10, endTime: 20, ok: true }),
    JSON.stringify({ i: 1, executionCount: 2, sha256: sha("b"), startTime: 30, endTime: 40, ok: false, error: "Error: boom" }),
    JSON.stringify({ i: 2, executionCount: 3, sha256: sha("c"), startTime: 50, endTime: 90, ok: true }),
    JSON.stringify({ i: 3, executionCount: 4, sha256: sha("a"), startTime: 100, endTime: 110, ok: true }),
  ].join("\n") + "\n",
);
const texts = new Map([
  [sha("a"), "const a = 1;"],
  [sha("b"), "throw new Error('boom');"],
  [sha("c"), "await exp.run(train);"],
]);
const own: CellRecord[] = [{ executionCount: 3, sha256: sha("c"), startTime: 50, endTime: 90, ok: true }];

describe("a run's code", () => {
  it("is its lineage up to `to`, in execution order, the run's own cells marked", () => {
    const record = { cells: own, lineage: { session: "s1", to: 3 }, startTime: 55, endTime: 88 };
    assert.deepEqual(codeBlobs(record, log), [sha("a"), sha("b"), sha("c")]);
    const code = codeOf(record, log, (s) => texts.get(s));
    assert.equal(code.source, "lineage");
    assert.equal(code.session?.from, "kernel");
    assert.deepEqual(
      code.cells.map((c) => [c.executionCount, c.source, c.ok, c.during ?? false]),
      [
        [1, "const a = 1;", true, false],
        [2, "throw new Error('boom');", false, false],
        [3, "await exp.run(train);", true, true],
      ],
    );
    assert.equal(code.cells[1].error, "Error: boom");
  });

  it("falls back to the run's own cells without a lineage or its log, and a missing blob is an empty source", () => {
    const record = { cells: own, lineage: { session: "gone", to: 3 } };
    assert.deepEqual(codeBlobs(record, undefined), [sha("c")]);
    const code = codeOf(record, undefined, () => undefined);
    assert.equal(code.source, "cells");
    assert.deepEqual(code.cells.map((c) => [c.executionCount, c.source, c.during]), [[3, "", true]]);
  });
});
