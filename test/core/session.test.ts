/**
 * The session log's format and the rules around it (src/protocol/session.ts): parsing with a
 * torn last line, a record's lineage, where a run came from, ignored cells.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isIgnoredCell, originLabel, parseRunRecord, parseSessionLog, provenanceText, redactIgnoredCells, sessionLogPath } from "../../src/protocol";

const header = { format: 1, session: "20261201T000000Z-1-abc", pid: 1, hostname: "h", startTime: 1, from: "kernel" };
const entry = (i: number, ok = true) => ({ i, executionCount: i + 1, sha256: "f".repeat(64), startTime: 10 + i, endTime: 11 + i, ok });

describe("session log format", () => {
  it("reads a header and entries in order, ignoring a torn last line", () => {
    const text = [header, entry(0), entry(1, false)].map((x) => JSON.stringify(x)).join("\n") + "\n" + '{"i":2,"execu';
    const log = parseSessionLog(text);
    assert.equal(log.header?.from, "kernel");
    assert.deepEqual(log.entries.map((e) => [e.i, e.ok]), [[0, true], [1, false]]);
    assert.deepEqual(log.problems, []);
  });

  it("names a malformed line in the middle instead of dropping it silently", () => {
    const text = [JSON.stringify(header), "not json", JSON.stringify(entry(0))].join("\n") + "\n";
    const log = parseSessionLog(text);
    assert.equal(log.entries.length, 1);
    assert.deepEqual(log.problems, ["line 2 is not valid JSON"]);
  });

  it("puts logs under the sessions folder and refuses an id that is not a file name", () => {
    assert.equal(sessionLogPath("abc-1"), "_labnote/sessions/abc-1.jsonl");
    assert.throws(() => sessionLogPath("../x"));
  });

  it("keeps a record's lineage when well formed, drops it otherwise, and old records stay valid", () => {
    const base = { experiment: "e", number: 1, status: "completed", startTime: 1 };
    const a = parseRunRecord(JSON.stringify({ ...base, lineage: { session: "s-1", to: 4 } }));
    assert.ok(a.ok);
    assert.deepEqual(a.record.lineage, { session: "s-1", to: 4 });
    const b = parseRunRecord(JSON.stringify({ ...base, lineage: { session: "../x", to: -1 } }));
    assert.ok(b.ok);
    assert.equal(b.record.lineage, undefined);
    const c = parseRunRecord(JSON.stringify(base));
    assert.ok(c.ok && c.record.lineage === undefined);
  });

  it("says where a run came from: the notebook's name and the count of the cell that started it", () => {
    const cells = [{ executionCount: 7, startTime: 5, sha256: "x" }];
    assert.equal(originLabel({ startTime: 6, notebook: "/a/b/spirals.ipynb", cells }), "spirals.ipynb [7]");
    assert.equal(originLabel({ startTime: 6, notebook: "C:\\nb\\spirals.ipynb", cells: [] }), "spirals.ipynb");
    // A first cell recorded after the run started (a spanning run's next cell) did not start it.
    assert.equal(originLabel({ startTime: 4, notebook: "/a/spirals.ipynb", cells }), "spirals.ipynb");
    assert.equal(originLabel({ startTime: 4, cells: [] }), undefined);
    assert.equal(provenanceText({ origin: "spirals.ipynb [7]", rerunOf: "spirals/3" }), "spirals.ipynb [7] · re-run of spirals/3");
  });

  it("knows an ignored cell by its first line only, and empties such cells in a notebook file", () => {
    assert.ok(isIgnoredCell("// labnote: ignore\nconst key = 1;"));
    assert.ok(isIgnoredCell("  //labnote:ignore  \nx"));
    assert.ok(!isIgnoredCell("const a = 1;\n// labnote: ignore"));
    const nb = { cells: [{ cell_type: "code", source: ["// labnote: ignore\n", "const key = 'secret';"], outputs: [{ output_type: "stream", text: "secret" }] }, { cell_type: "code", source: "1", outputs: [] }], metadata: {}, nbformat: 4, nbformat_minor: 5 };
    const out = redactIgnoredCells(JSON.stringify(nb));
    assert.ok(out !== undefined && !out.includes("secret"));
    assert.equal(JSON.parse(out).cells[1].source, "1");
    assert.equal(redactIgnoredCells(JSON.stringify({ ...nb, cells: [nb.cells[1]] })), undefined);
  });
});
