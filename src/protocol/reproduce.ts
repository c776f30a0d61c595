/**
 * A run's reproduction, built from its record and its code alone: a notebook (nbformat 4, the
 * tslab kernel) or one TypeScript file holding the run's code in execution order, whose first
 * code pins the seeds of the runs it remakes (the config is not touched). Pure: the command line
 * (`history/reproduce.ts`, node:fs) and the panel (the contents API) read, this builds.
 */
import type { CodeCell, RunCode } from "./code";
import { recordJson } from "./json";
import type { RunRecord } from "./record";
import { originLabel, type SessionEntry } from "./session";

/** A run the reproduction remakes, with the seed it pins. */
export interface RemadeRun {
  id: string;
  experiment: string;
  name: string;
  seed: number;
}

/** What a reproduction is made of: the run, its code, and the runs it remakes in start order. */
export interface Reproduction {
  record: RunRecord;
  code: RunCode;
  /** Every run the code remakes, in the order they start; the run itself among them. */
  remade: RemadeRun[];
  /** Index in `code.cells` of the cell that started the run, if known. */
  startIndex: number | undefined;
}

/** An nbformat 4 notebook cell. */
export interface NotebookCellJson {
  id: string;
  cell_type: "code" | "markdown";
  metadata: Record<string, unknown>;
  source: string;
  execution_count?: null;
  outputs?: unknown[];
}

/** An nbformat 4 notebook. */
export interface NotebookJson {
  nbformat: 4;
  nbformat_minor: 5;
  metadata: Record<string, unknown>;
  cells: NotebookCellJson[];
}

/** The entry of `entries` during which a run started (the last one begun at or before it). */
function entryAt(entries: readonly { startTime: number }[], time: number): number | undefined {
  let at: number | undefined;
  entries.forEach((e, i) => {
    if (e.startTime <= time) at = i;
  });
  return at;
}

/** The runs of the same session (among `others`) started by the lineage's cells; in start order. */
function remadeRuns(record: RunRecord, code: RunCode, entries: readonly SessionEntry[], others: Iterable<RunRecord>): RemadeRun[] {
  const session = record.lineage?.session;
  const found: RunRecord[] = [];
  if (session !== undefined && code.source === "lineage") {
    {
      for (const r of others) {
        if (r.lineage?.session !== session || r.id === record.id) continue;
        const at = entryAt(entries, r.startTime);
        if (at === undefined || at >= code.cells.length) continue;
        if (code.cells[at].ok === false) continue; // kept as text: not remade
        found.push(r);
      }
    }
  }
  found.push(record);
  found.sort((a, b) => a.startTime - b.startTime || a.number - b.number);
  return found.map((r) => ({ id: r.id, experiment: r.experiment, name: r.name, seed: r.seed }));
}

/**
 * What the reproduction of `record` holds: its code, its session log's entries (empty without
 * one) and the store's other records (those of the same session started by the lineage's cells
 * are remade too).
 * @example
 * const r = reproductionOf(record, code, log?.entries ?? [], records); r.remade.map((x) => x.id);
 */
export function reproductionOf(record: RunRecord, code: RunCode, entries: readonly SessionEntry[], others: Iterable<RunRecord>): Reproduction {
  const startIndex = code.source === "lineage" ? entryAt(entries, record.startTime) : code.cells.length > 0 && code.cells[0].startTime <= record.startTime ? 0 : undefined;
  return { record, code, remade: remadeRuns(record, code, entries, others), startIndex: startIndex !== undefined && startIndex < code.cells.length ? startIndex : undefined };
}

function utc(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** The description that opens the reproduction, as Markdown. */
function describeRun(r: Reproduction, kind: "notebook" | "script"): string {
  const rec = r.record;
  const origin = originLabel(rec);
  const lines = [
    `# Reproduction of run ${rec.id} "${rec.name}"`,
    "",
    `Run **${rec.id}** "${rec.name}" started ${utc(rec.startTime)}${origin ? ` from \`${origin}\`` : ""}; status ${rec.status}; seed ${rec.seed}.`,
    "",
    "Config:",
    "",
    "```json",
    recordJson(rec.config, 2) ?? "{}",
    "```",
    "",
  ];
  const others = r.remade.filter((x) => x.id !== rec.id);
  const what = kind === "notebook" ? "Running this notebook from top to bottom" : "Running this script";
  lines.push(`${what} remakes the run under its name with its config and seed: the first code pins the seed${r.remade.length > 1 ? "s" : ""} (the config is not touched).`);
  if (others.length > 0) {
    lines.push("", "Earlier cells of its lineage start these runs, remade too (their seeds pinned as well):", "");
    for (const o of others) lines.push(`- ${o.id} "${o.name}" (seed ${o.seed})`);
  }
  lines.push("");
  if (r.code.source === "lineage") {
    const session = r.record.lineage!.session;
    lines.push(`Its lineage: ${r.code.cells.length} cell${r.code.cells.length === 1 ? "" : "s"} of kernel session \`${session}\`, in the order they were executed (each tagged with its execution count).`);
    if (r.code.session?.from === "import") lines.push("", "**The session log starts where labnote was imported: earlier cells are missing.**");
  } else {
    lines.push("This run's record has no lineage (written before session logs, or with `capture: { lineage: false }`): these are only the cells executed while it was open; earlier cells are missing.");
  }
  if (r.code.cells.some((c) => c.ok === false)) lines.push("", "Cells that failed in the original are kept as text, so that running from top to bottom does not stop on them.");
  return lines.join("\n");
}

/** The package the generated code imports (text in a notebook, not an import of this module). */
const PACKAGE = "labnote";

/** The code that pins the seeds, as a statement. */
function pinStatement(remade: readonly RemadeRun[]): string {
  const pins = remade.map((x) => `  { experiment: ${JSON.stringify(x.experiment)}, name: ${JSON.stringify(x.name)}, seed: ${x.seed} },`);
  return [`(await import(${JSON.stringify(PACKAGE)})).pinSeeds([`, ...pins, `]);`].join("\n");
}

/** A failed cell as Markdown text. */
function failedText(c: CodeCell): string {
  const fence = c.source.includes("```") ? "~~~~" : "```";
  return [`**[${c.executionCount}] failed in the original**${c.error ? `: ${c.error.split("\n")[0]}` : ""}`, "", `${fence}typescript`, c.source, fence].join("\n");
}

/** True when the cell is kept as code: it did not fail, or it is the failing cell that started the run. */
function keptAsCode(r: Reproduction, c: CodeCell, i: number): boolean {
  return c.ok !== false || i === r.startIndex;
}

/**
 * A notebook (nbformat 4, tslab kernel) that reproduces the run: a first Markdown cell naming
 * the run, its config, date and the runs remade; a code cell pinning their seeds; then the
 * lineage in execution order, each cell's metadata `labnote: { executionCount, sha256 }`.
 * @example
 * JSON.stringify(notebookOf(reproductionOf(record, code, entries, records)), null, 1)
 */
export function notebookOf(r: Reproduction): NotebookJson {
  const record = r.record;
  const cells: NotebookCellJson[] = [
    { id: "labnote-about", cell_type: "markdown", metadata: { labnote: { reproduces: record.id } }, source: describeRun(r, "notebook") },
    {
      id: "labnote-seeds",
      cell_type: "code",
      metadata: { labnote: { pins: r.remade.map((x) => x.id) } },
      source: `// Pins the seed of each run this notebook remakes (labnote.pinSeeds), in the order they start.\n${pinStatement(r.remade)}`,
      execution_count: null,
      outputs: [],
    },
  ];
  r.code.cells.forEach((c, i) => {
    const metadata: Record<string, unknown> = { labnote: { executionCount: c.executionCount, sha256: c.sha256, ...(c.ok === false ? { ok: false } : {}) } };
    const id = `labnote-${i}`;
    if (keptAsCode(r, c, i)) {
      if (c.ok === false) metadata.tags = ["raises-exception"];
      cells.push({ id, cell_type: "code", metadata, source: c.source, execution_count: null, outputs: [] });
    } else cells.push({ id, cell_type: "markdown", metadata, source: failedText(c) });
  });
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: "tslab", display_name: "TypeScript", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts", mimetype: "text/typescript" },
      labnote: { reproduces: record.id, ...(record.lineage ? { session: record.lineage.session } : {}), remade: r.remade.map((x) => x.id) },
    },
    cells,
  };
}

const IMPORT = /^[ \t]*import\s+(?:[^;'"]*?\s+from\s*)?(['"])[^'"\n]+\1[ \t]*;?[ \t]*$/gm;

/** Split a cell into its import statements (hoisted to the top of a script) and the rest. */
function splitImports(source: string): { imports: string[]; body: string } {
  const imports: string[] = [];
  const body = source.replace(IMPORT, (m) => {
    imports.push(m.trim().replace(/;?$/, ";"));
    return "";
  });
  return { imports, body };
}

function comment(text: string, indent: string): string {
  return text
    .split("\n")
    .map((l) => `${indent}//${l ? ` ${l}` : ""}`)
    .join("\n");
}

/**
 * The reproduction as one TypeScript file: the same cells in the same order, Markdown as
 * comments. Each cell opens a block that stays open to the end, so that a cell sees what earlier
 * cells declared and a later cell's new definition of a name (an edited function) takes over
 * from there on, as in the kernel; imports are hoisted to the top.
 * @example
 * scriptOf(reproductionOf(record, code, entries, records))
 */
export function scriptOf(r: Reproduction): string {
  const imports: string[] = [];
  const seen = new Set<string>();
  const parts: string[] = [];
  let depth = 1;
  const pad = () => "  ".repeat(depth);
  parts.push(`${pad()}${pinStatement(r.remade).split("\n").join(`\n${pad()}`)}`);
  r.code.cells.forEach((c, i) => {
    if (!keptAsCode(r, c, i)) {
      parts.push("", comment(failedText(c), pad()));
      return;
    }
    const { imports: found, body } = splitImports(c.source);
    for (const s of found) {
      const key = s.replace(/\s+/g, " ");
      if (!seen.has(key)) {
        seen.add(key);
        imports.push(s);
      }
    }
    parts.push("", `${pad()}// [${c.executionCount}]${c.ok === false ? " (failed in the original)" : ""}`, `${pad()}{`);
    depth++;
    parts.push(
      body
        .split("\n")
        .map((l) => (l.trim() ? pad() + l : ""))
        .join("\n")
        .replace(/^\n+|\n+$/g, ""),
    );
  });
  const closing = "}".repeat(depth - 1);
  return [
    comment(describeRun(r, "script"), ""),
    "//",
    "// Run it with a TypeScript runner, e.g. `npx tsx <file>`. Runs that the notebook ended with their cell end here with the script.",
    "",
    ...imports,
    "",
    "async function reproduce(): Promise<void> {",
    ...parts,
    closing ? `  ${closing}` : "",
    "}",
    "",
    "reproduce().catch((error) => {",
    "  console.error(error);",
    "  process.exitCode = 1;",
    "});",
    "",
  ].join("\n");
}
