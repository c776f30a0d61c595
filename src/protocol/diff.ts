/**
 * Line diffs a person can read: the shortest edit script between two texts (Myers' O(ND)
 * algorithm), grouped into hunks with a few lines of context, and printed as a unified diff.
 * Pure: the command line, exp.compare and the panel share it.
 */

/** One line of a hunk: kept (" "), removed ("-") or added ("+"). */
export interface DiffLine {
  op: " " | "-" | "+";
  text: string;
}

/** A run of changes with context lines around them, as in a unified diff (`@@ -aStart,aLines +bStart,bLines @@`). */
export interface DiffHunk {
  /** 1-based first line in `a` (0 when the hunk covers no line of `a`). */
  aStart: number;
  aLines: number;
  bStart: number;
  bLines: number;
  lines: DiffLine[];
}

/** An edit of a sequence: `same` items are in both, `del` only in the first, `add` only in the second. */
export type Edit = { op: "same"; a: number; b: number } | { op: "del"; a: number } | { op: "add"; b: number };

/**
 * The shortest edit script turning `a` into `b` (Myers), items compared with `eq`; deletions
 * come before additions where both are possible, as in `diff -u`.
 * @example diffSequences([1, 2, 3], [1, 3]) // same 0/0, del 1, same 2/1
 */
export function diffSequences<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean = Object.is): Edit[] {
  // Common head and tail are cheap to take off, and usual in code that changed in one place.
  let head = 0;
  while (head < a.length && head < b.length && eq(a[head], b[head])) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && eq(a[a.length - 1 - tail], b[b.length - 1 - tail])) tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  const out: Edit[] = [];
  for (let i = 0; i < head; i++) out.push({ op: "same", a: i, b: i });
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = max === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && eq(a[head + x], b[head + y])) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from the end to recover the path.
  const middle: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[max + k - 1] < vd[max + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[max + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      middle.push({ op: "same", a: head + x, b: head + y });
    }
    if (d === 0) break;
    if (x === prevX) middle.push({ op: "add", b: head + --y });
    else middle.push({ op: "del", a: head + --x });
  }
  while (x > 0 && y > 0) middle.push({ op: "same", a: head + --x, b: head + --y });
  middle.reverse();
  out.push(...middle);
  for (let i = 0; i < tail; i++) out.push({ op: "same", a: a.length - tail + i, b: b.length - tail + i });
  return out;
}

/** A text's lines; a final newline ends the last line, it does not start an empty one. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * The hunks that turn text `a` into text `b`, with `context` unchanged lines around each
 * change; none when the texts have the same lines.
 * @example formatDiff(diffLines("x = 1\ny = 2\n", "x = 1\ny = 3\n"))
 */
export function diffLines(a: string, b: string, context = 3): DiffHunk[] {
  const al = splitLines(a);
  const bl = splitLines(b);
  const edits = diffSequences(al, bl, (p, q) => p === q);
  const hunks: DiffHunk[] = [];
  let i = 0;
  while (i < edits.length) {
    if (edits[i].op === "same") {
      i++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` after the last change that
    // is within 2 × context lines of the one before it.
    let start = i;
    while (start > 0 && i - start < context && edits[start - 1].op === "same") start--;
    let end = i;
    for (;;) {
      while (end < edits.length && edits[end].op !== "same") end++;
      let gap = end;
      while (gap < edits.length && edits[gap].op === "same") gap++;
      if (gap < edits.length && gap - end <= 2 * context) end = gap;
      else {
        end = Math.min(end + context, gap);
        break;
      }
    }
    const lines: DiffLine[] = [];
    let aFirst = -1;
    let bFirst = -1;
    let aCount = 0;
    let bCount = 0;
    let aBefore = 0;
    let bBefore = 0;
    for (let j = 0; j < start; j++) {
      const e = edits[j];
      if (e.op !== "add") aBefore++;
      if (e.op !== "del") bBefore++;
    }
    for (let j = start; j < end; j++) {
      const e = edits[j];
      if (e.op === "same") {
        lines.push({ op: " ", text: al[e.a] });
        if (aFirst < 0) aFirst = e.a;
        if (bFirst < 0) bFirst = e.b;
        aCount++;
        bCount++;
      } else if (e.op === "del") {
        lines.push({ op: "-", text: al[e.a] });
        if (aFirst < 0) aFirst = e.a;
        aCount++;
      } else {
        lines.push({ op: "+", text: bl[e.b] });
        if (bFirst < 0) bFirst = e.b;
        bCount++;
      }
    }
    hunks.push({ aStart: aCount ? aFirst + 1 : aBefore, aLines: aCount, bStart: bCount ? bFirst + 1 : bBefore, bLines: bCount, lines });
    i = end;
  }
  return hunks;
}

/**
 * Hunks as unified-diff text, with `--- a` / `+++ b` headers when labels are given.
 * @example formatDiff(diffLines(old, now), { a: "mnist/1 [5]", b: "mnist/2 [9]" })
 */
export function formatDiff(hunks: readonly DiffHunk[], labels?: { a: string; b: string }): string {
  const out: string[] = [];
  if (labels) out.push(`--- ${labels.a}`, `+++ ${labels.b}`);
  for (const h of hunks) {
    out.push(`@@ -${h.aStart}${h.aLines === 1 ? "" : `,${h.aLines}`} +${h.bStart}${h.bLines === 1 ? "" : `,${h.bLines}`} @@`);
    for (const l of h.lines) out.push(l.op + l.text);
  }
  return out.join("\n");
}
