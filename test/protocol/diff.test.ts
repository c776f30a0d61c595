import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffLines, diffSequences, formatDiff } from "../../src/protocol";

/** Applies the hunks' lines to check they turn a into b. */
function apply(a: string, b: string): void {
  const hunks = diffLines(a, b, 1_000_000);
  const al = a === "" ? [] : a.replace(/\n$/, "").split("\n");
  const bl = b === "" ? [] : b.replace(/\n$/, "").split("\n");
  if (hunks.length === 0) return assert.deepEqual(al, bl);
  const lines = hunks[0].lines;
  assert.deepEqual(lines.filter((l) => l.op !== "+").map((l) => l.text), al);
  assert.deepEqual(lines.filter((l) => l.op !== "-").map((l) => l.text), bl);
}

describe("line diffs", () => {
  it("gives no hunk for equal texts and a readable unified diff for a changed line", () => {
    assert.deepEqual(diffLines("a\nb\n", "a\nb"), []);
    const a = "function train(lr) {\n  const model = make();\n  return fit(model, lr);\n}\n";
    const b = "function train(lr) {\n  const model = make(64);\n  return fit(model, lr);\n}\n";
    assert.equal(
      formatDiff(diffLines(a, b), { a: "sweep/1 [3]", b: "sweep/2 [7]" }),
      ["--- sweep/1 [3]", "+++ sweep/2 [7]", "@@ -1,4 +1,4 @@", " function train(lr) {", "-  const model = make();", "+  const model = make(64);", "   return fit(model, lr);", " }"].join("\n"),
    );
  });

  it("keeps three lines of context and splits far-apart changes into hunks", () => {
    const a = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n");
    const b = a.replace("line 2\n", "line two\n").replace("line 25", "line twenty-five");
    const hunks = diffLines(a, b);
    assert.equal(hunks.length, 2);
    assert.deepEqual([hunks[0].aStart, hunks[0].aLines, hunks[0].bStart, hunks[0].bLines], [1, 6, 1, 6]);
    assert.deepEqual([hunks[1].aStart, hunks[1].aLines], [23, 7]);
    assert.match(formatDiff(hunks), /^@@ -1,6 \+1,6 @@\n line 0\n line 1\n-line 2\n\+line two\n/);
  });

  it("writes an added or removed text as one hunk from or to nothing", () => {
    assert.equal(formatDiff(diffLines("", "x\ny\n")), "@@ -0,0 +1,2 @@\n+x\n+y");
    assert.equal(formatDiff(diffLines("x\n", "")), "@@ -1 +0,0 @@\n-x");
  });

  it("finds a shortest edit script, whatever the texts", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let t = 0; t < 300; t++) {
      const mk = () => Array.from({ length: Math.floor(rand() * 12) }, () => "abcd"[Math.floor(rand() * 4)]).join("\n");
      const a = mk();
      const b = mk();
      apply(a, b);
      // Shortest: the edits count equals n + m - 2·LCS.
      const x = a ? a.split("\n") : [];
      const y = b ? b.split("\n") : [];
      const L = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
      for (let i = 1; i <= x.length; i++) for (let j = 1; j <= y.length; j++) L[i][j] = x[i - 1] === y[j - 1] ? L[i - 1][j - 1] + 1 : Math.max(L[i - 1][j], L[i][j - 1]);
      const edits = diffSequences(x, y).filter((e) => e.op !== "same").length;
      assert.equal(edits, x.length + y.length - 2 * L[x.length][y.length], `${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    }
  });
});
