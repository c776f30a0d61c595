/**
 * Comparing runs: where their configs differ, their metric summaries side by side, and how
 * their code differs (which cells, and a line diff of each changed cell). Pure: built from
 * records and the runs' code (read by the history), printed by the command line and shown in
 * a notebook cell as HTML with a text fallback.
 */
import { diffLines, diffSequences, formatDiff, type DiffHunk } from "./diff";
import { formatNumber } from "./format";
import { escapeHtml } from "./html";
import { configValueText, flattenConfig } from "./json";
import type { MetricSummary, RunRecord } from "./record";
import { textTable } from "./text-table";

/** A cell of a run's code, as much of it as a comparison reads. */
export interface ComparedCell {
  executionCount: number;
  source: string;
  notebook?: string;
}

/** One run to compare: its record and its code (`runCode` of the history). */
export interface ComparedRun {
  record: Pick<RunRecord, "id" | "name" | "status" | "config" | "metrics">;
  code: { source: "lineage" | "cells"; cells: readonly ComparedCell[] };
}

/** Where a cell is in a run's code: its position, and what the notebook showed. */
export interface CellRef {
  /** 0-based position in the run's code. */
  index: number;
  executionCount: number;
  notebook?: string;
}

/**
 * A cell that differs between two runs' code. `changed`: the second run has an edited version
 * of the first's cell (edited in place, or defined again later in its lineage: `train` edited
 * and re-run); `again`: the same source ran once more in one run than in the other (a cell
 * re-run); `added`/`removed`: a cell only one run has.
 */
export interface CellChange {
  kind: "changed" | "again" | "added" | "removed";
  from?: CellRef;
  to?: CellRef;
  /** The line diff, from the first run's cell to the second's (an added cell: from nothing); empty for `again`. */
  hunks: DiffHunk[];
}

/** How the code of run `to` differs from run `from`'s. */
export interface CodeDiff {
  from: string;
  to: string;
  /** Cells with the same source in both. */
  same: number;
  changes: CellChange[];
}

/** Runs compared: the result of `exp.compare()` and of `labnote compare --json`. */
export interface RunComparison {
  runs: { id: string; name: string; status: string; code: "lineage" | "cells" }[];
  /** Config keys (dotted) whose values differ, with each run's value (undefined: the run lacks it), and the keys the same in all. */
  config: { differing: { key: string; values: unknown[] }[]; same: { key: string; value: unknown }[] };
  /** Every metric of any run, with each run's summary (null: the run has none). */
  metrics: { name: string; summaries: (MetricSummary | null)[] }[];
  /** The code of each run after the first against the first's. */
  cells: CodeDiff[];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  return typeof a === "object" && typeof b === "object" && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/** How alike two sources are: the share of their lines in common (0…1), or 1 when they start with the same declaration line. */
function likeness(a: string, b: string): number {
  const al = a.split("\n");
  const bl = b.split("\n");
  const first = (ls: string[]) => ls.find((l) => l.trim() !== "")?.trim() ?? "";
  if (first(al) !== "" && first(al) === first(bl) && /^(export\s+)?(async\s+)?(function|class|const|let|var|interface|type)\b/.test(first(al))) return 1;
  const same = diffSequences(al, bl).filter((e) => e.op === "same").length;
  return (2 * same) / Math.max(1, al.length + bl.length);
}

/** The cell of `cells` most like `source` (at least half alike), or -1. */
function mostLike(cells: readonly ComparedCell[], source: string): number {
  let best = -1;
  let score = 0.5;
  for (let i = cells.length - 1; i >= 0; i--) {
    const l = likeness(cells[i].source, source);
    if (l > score || (l === 1 && score < 1)) {
      best = i;
      score = l;
    }
  }
  return best;
}

/**
 * How `b`'s code differs from `a`'s: cells aligned by their source; cells edited in place are
 * paired in order; a cell only one run has is matched with the other run's same or most alike
 * cell (a function defined again, edited, later in the lineage), else it is added or removed.
 */
export function diffCode(a: ComparedRun, b: ComparedRun): CodeDiff {
  const ac = a.code.cells;
  const bc = b.code.cells;
  const ref = (cells: readonly ComparedCell[], i: number): CellRef => ({ index: i, executionCount: cells[i].executionCount, ...(cells[i].notebook ? { notebook: cells[i].notebook } : {}) });
  const edits = diffSequences(ac, bc, (x, y) => x.source === y.source);
  const changes: CellChange[] = [];
  let same = 0;
  let dels: number[] = [];
  let adds: number[] = [];
  const flush = () => {
    const paired = Math.min(dels.length, adds.length);
    for (let k = 0; k < paired; k++) changes.push({ kind: "changed", from: ref(ac, dels[k]), to: ref(bc, adds[k]), hunks: diffLines(ac[dels[k]].source, bc[adds[k]].source) });
    for (let k = paired; k < dels.length; k++) {
      const i = dels[k];
      const twin = bc.findIndex((c) => c.source === ac[i].source);
      const near = twin >= 0 ? twin : mostLike(bc, ac[i].source);
      if (twin >= 0) changes.push({ kind: "again", from: ref(ac, i), to: ref(bc, twin), hunks: [] });
      else if (near >= 0) changes.push({ kind: "changed", from: ref(ac, i), to: ref(bc, near), hunks: diffLines(ac[i].source, bc[near].source) });
      else changes.push({ kind: "removed", from: ref(ac, i), hunks: diffLines(ac[i].source, "") });
    }
    for (let k = paired; k < adds.length; k++) {
      const j = adds[k];
      const twin = ac.findIndex((c) => c.source === bc[j].source);
      const near = twin >= 0 ? twin : mostLike(ac, bc[j].source);
      if (twin >= 0) changes.push({ kind: "again", from: ref(ac, twin), to: ref(bc, j), hunks: [] });
      else if (near >= 0) changes.push({ kind: "changed", from: ref(ac, near), to: ref(bc, j), hunks: diffLines(ac[near].source, bc[j].source) });
      else changes.push({ kind: "added", to: ref(bc, j), hunks: diffLines("", bc[j].source) });
    }
    dels = [];
    adds = [];
  };
  for (const e of edits) {
    if (e.op === "same") {
      flush();
      same++;
    } else if (e.op === "del") dels.push(e.a);
    else adds.push(e.b);
  }
  flush();
  return { from: a.record.id, to: b.record.id, same, changes };
}

/**
 * Compare runs: config diff, metric summaries side by side, and each run's code against the
 * first run's.
 * @example compareRuns([{ record: a, code: runCode(root, a) }, { record: b, code: runCode(root, b) }])
 */
export function compareRuns(runs: readonly ComparedRun[]): RunComparison {
  const flat = runs.map((r) => flattenConfig(r.record.config ?? {}));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differing: { key: string; values: unknown[] }[] = [];
  const same: { key: string; value: unknown }[] = [];
  for (const key of keys) {
    const values = flat.map((f) => (key in f ? f[key] : undefined));
    if (values.every((v, i) => key in flat[i] && sameValue(v, values[0]))) same.push({ key, value: values[0] });
    else differing.push({ key, values });
  }
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.record.metrics ?? {})))];
  return {
    runs: runs.map((r) => ({ id: r.record.id, name: r.record.name, status: r.record.status, code: r.code.source })),
    config: { differing, same },
    metrics: names.map((name) => ({ name, summaries: runs.map((r) => r.record.metrics?.[name] ?? null) })),
    cells: runs.slice(1).map((r) => diffCode(runs[0], r)),
  };
}

function cellLabel(id: string, ref: CellRef | undefined): string {
  if (!ref) return "/dev/null";
  return `${id} [${ref.executionCount}]${ref.notebook ? ` ${ref.notebook.split(/[\\/]/).pop()}` : ""}`;
}

const STAT_ROWS = ["last", "min", "max"] as const;

/** One cell change as text: a unified diff, or one line for a cell that ran again. */
function changeText(diff: CodeDiff, ch: CellChange): string {
  if (ch.kind === "again") return `= ${cellLabel(diff.to, ch.to)} and ${cellLabel(diff.from, ch.from)}: the same source, run once more in one of them`;
  return formatDiff(ch.hunks, { a: cellLabel(diff.from, ch.kind === "added" ? undefined : ch.from), b: cellLabel(diff.to, ch.kind === "removed" ? undefined : ch.to) });
}

/** The comparison as text: config diff, metrics side by side, the code diff as unified diffs. */
export function comparisonText(c: RunComparison): string {
  const ids = c.runs.map((r) => r.id);
  const out: string[] = [];
  out.push(`Comparing ${c.runs.map((r) => `${r.id}${r.name ? ` (${r.name})` : ""}`).join(", ")}`, "");
  const d = c.config.differing.length;
  out.push(`Config: ${d} key${d === 1 ? "" : "s"} differ${d === 1 ? "s" : ""}, ${c.config.same.length} the same`);
  if (d) out.push(indent(textTable(["key", ...ids], c.config.differing.map((row) => [row.key, ...row.values.map((v) => (v === undefined ? "–" : configValueText(v)))]), 40)));
  out.push("");
  out.push(c.metrics.length ? "Metrics" : "Metrics: none logged");
  if (c.metrics.length) {
    const rows: string[][] = [];
    for (const m of c.metrics) for (const s of STAT_ROWS) rows.push([`${m.name}.${s}`, ...m.summaries.map((x) => (x ? formatNumber(x[s]) : "–"))]);
    out.push(indent(textTable(["metric", ...ids], rows, 40)));
  }
  for (const diff of c.cells) {
    out.push("");
    const n = diff.changes.length;
    if (n === 0 && diff.same === 0) {
      out.push(`Code ${diff.from} → ${diff.to}: no notebook cells recorded in either`);
      continue;
    }
    out.push(`Code ${diff.from} → ${diff.to}: ${n ? `${n} cell${n === 1 ? "" : "s"} differ${n === 1 ? "s" : ""}, ${diff.same} the same` : `the same (${diff.same} cell${diff.same === 1 ? "" : "s"})`}`);
    for (const ch of diff.changes) out.push(indent(changeText(diff, ch)));
  }
  return out.join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => (l ? `  ${l}` : l))
    .join("\n");
}

/** The comparison as self-contained HTML (inline styles: it must read well in a notebook without labnote). */
export function comparisonHtml(c: RunComparison): string {
  const ids = c.runs.map((r) => r.id);
  const th = (s: string) => `<th style="text-align:left;padding:2px 8px">${escapeHtml(s)}</th>`;
  const td = (s: string, style = "") => `<td style="padding:2px 8px;${style}">${escapeHtml(s)}</td>`;
  const table = (head: string[], rows: string[][], mono = false) =>
    `<table style="border-collapse:collapse;font-size:12px"><thead><tr>${head.map(th).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((x, j) => td(x, j > 0 && mono ? "font-family:monospace;text-align:right" : "")).join("")}</tr>`).join("")}</tbody></table>`;
  const parts: string[] = [];
  parts.push(`<div class="labnote-compare" style="font-size:12px"><b>Comparing</b> ${c.runs.map((r) => `${escapeHtml(r.id)}${r.name ? ` <i>${escapeHtml(r.name)}</i>` : ""}`).join(" · ")}`);
  parts.push(`<h4 style="margin:8px 0 2px">Config: ${c.config.differing.length} differ, ${c.config.same.length} the same</h4>`);
  if (c.config.differing.length) parts.push(table(["key", ...ids], c.config.differing.map((row) => [row.key, ...row.values.map((v) => (v === undefined ? "–" : configValueText(v)))]), true));
  parts.push(`<h4 style="margin:8px 0 2px">Metrics</h4>`);
  if (c.metrics.length) {
    const rows: string[][] = [];
    for (const m of c.metrics) for (const s of STAT_ROWS) rows.push([`${m.name}.${s}`, ...m.summaries.map((x) => (x ? formatNumber(x[s]) : "–"))]);
    parts.push(table(["metric", ...ids], rows, true));
  } else parts.push("<div>none logged</div>");
  for (const diff of c.cells) {
    parts.push(`<h4 style="margin:8px 0 2px">Code ${escapeHtml(diff.from)} → ${escapeHtml(diff.to)}: ${diff.changes.length} cells differ, ${diff.same} the same</h4>`);
    for (const ch of diff.changes) {
      const lines = changeText(diff, ch)
        .split("\n")
        .map((l) => {
          const color = l.startsWith("+++") || l.startsWith("---") ? "font-weight:bold" : l.startsWith("+") ? "background:#e6ffec" : l.startsWith("-") ? "background:#ffebe9" : l.startsWith("@@") ? "color:#6a737d" : "";
          return `<div style="${color}">${escapeHtml(l) || "&nbsp;"}</div>`;
        })
        .join("");
      parts.push(`<pre style="margin:4px 0;padding:4px;white-space:pre-wrap;font-size:11px;border:1px solid #ddd">${lines}</pre>`);
    }
  }
  parts.push("</div>");
  return parts.join("");
}

/**
 * The finished (completed) run whose last value of `metric` is lowest (`"min"`) or highest
 * (`"max"`); runs without the metric, or whose last value is NaN, are passed over. Undefined
 * when no completed run has it. Ties go to the earlier run.
 * @example bestRecord(records, "loss", "min")?.id
 */
export function bestRecord<R extends Pick<RunRecord, "status" | "metrics">>(records: readonly R[], metric: string, mode: "min" | "max"): R | undefined {
  let best: R | undefined;
  let bestValue = NaN;
  for (const r of records) {
    if (r.status !== "completed") continue;
    const v = r.metrics?.[metric]?.last;
    if (typeof v !== "number" || Number.isNaN(v)) continue;
    if (best === undefined || (mode === "min" ? v < bestValue : v > bestValue)) {
      best = r;
      bestValue = v;
    }
  }
  return best;
}
