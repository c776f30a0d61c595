/**
 * The session log: every cell a kernel executed in one session, in execution order, as
 * append-only JSON lines, and the snapshots of a notebook saved into the history.
 * ```
 * <root>/_labnote/sessions/<session-id>.jsonl     header line, then one line per executed cell
 * <root>/_labnote/snapshots/<sha256>.ipynb         a notebook as saved, outputs included
 * <root>/_labnote/snapshots/<sha256>.links.json    {"format":1,"notebook","session","time","runs":[…]}
 * ```
 * A cell's source is stored once as a blob (`blobPath(sha256)`). A run's lineage is entries
 * `[0, to)` of its session's log. Readers ignore a torn last line.
 */
import { isPlainObject } from "./json";
import { SESSIONS_DIR, SNAPSHOTS_DIR } from "./layout";

/** The session log format this version writes. */
export const SESSION_FORMAT = 1;

/** The first line of a session log. */
export interface SessionHeader {
  format: 1;
  session: string;
  /** The kernel's process id. */
  pid: number;
  hostname: string;
  startTime: number;
  /** "kernel": the log holds the session from its first cell; "import": from where labnote was first imported. */
  from: "kernel" | "import";
  notebook?: string;
}

/** One executed cell, a line of the session log. */
export interface SessionEntry {
  /** 0-based position in the session. */
  i: number;
  executionCount: number;
  /** sha256 of the source text; the source is the blob of that hash. */
  sha256: string;
  startTime: number;
  endTime: number;
  ok: boolean;
  error?: string;
  notebook?: string;
}

/** A snapshot's links file: which runs the snapshot belongs to. */
export interface SnapshotLinks {
  format: 1;
  notebook: string;
  session: string;
  time: number;
  /** Run ids, `<experiment>/<number>`. */
  runs: string[];
}

/** A run's place in its session's log: entries `[0, to)`. */
export interface Lineage {
  session: string;
  to: number;
}

/** A parsed session log; `problems` says what was skipped. */
export interface ParsedSessionLog {
  header: SessionHeader | undefined;
  entries: SessionEntry[];
  problems: string[];
}

/** True for a session id that is safe as a file name. */
export function isSessionId(id: unknown): id is string {
  return typeof id === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/.test(id);
}

/** A session log's path relative to the root. */
export function sessionLogPath(id: string): string {
  if (!isSessionId(id)) throw new Error(`invalid session id ${JSON.stringify(id)}`);
  return `${SESSIONS_DIR}/${id}.jsonl`;
}

/** A snapshot's notebook and links files relative to the root. */
export function snapshotPaths(sha256: string): { notebook: string; links: string } {
  return { notebook: `${SNAPSHOTS_DIR}/${sha256}.ipynb`, links: `${SNAPSHOTS_DIR}/${sha256}.links.json` };
}

/** A run's lineage from a record's field, or undefined when absent or malformed. */
export function parseLineage(x: unknown): Lineage | undefined {
  if (!isPlainObject(x) || !isSessionId(x.session) || typeof x.to !== "number" || !Number.isInteger(x.to) || x.to < 0) return undefined;
  return { session: x.session, to: x.to };
}

function parseEntry(x: unknown): SessionEntry | undefined {
  if (!isPlainObject(x)) return undefined;
  if (typeof x.i !== "number" || typeof x.sha256 !== "string" || typeof x.startTime !== "number") return undefined;
  const e: SessionEntry = {
    i: x.i,
    executionCount: typeof x.executionCount === "number" ? x.executionCount : 0,
    sha256: x.sha256,
    startTime: x.startTime,
    endTime: typeof x.endTime === "number" ? x.endTime : x.startTime,
    ok: x.ok !== false,
  };
  if (typeof x.error === "string") e.error = x.error;
  if (typeof x.notebook === "string") e.notebook = x.notebook;
  return e;
}

/**
 * Read a session log's text. Never throws: a torn last line is ignored, a malformed line is
 * skipped and named in `problems`; entries come back ordered by `i`, one per index.
 * @example
 * const { header, entries } = parseSessionLog(fs.readFileSync(file, "utf8"));
 */
export function parseSessionLog(text: string): ParsedSessionLog {
  const lines = text.split("\n");
  const torn = !text.endsWith("\n");
  const problems: string[] = [];
  let header: SessionHeader | undefined;
  const byIndex = new Map<number, SessionEntry>();
  lines.forEach((line, n) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (!(torn && n === lines.length - 1)) problems.push(`line ${n + 1} is not valid JSON`);
      return;
    }
    if (n === 0) {
      if (isPlainObject(value) && isSessionId(value.session) && typeof value.startTime === "number") {
        header = {
          format: 1,
          session: value.session,
          pid: typeof value.pid === "number" ? value.pid : 0,
          hostname: typeof value.hostname === "string" ? value.hostname : "",
          startTime: value.startTime,
          from: value.from === "kernel" ? "kernel" : "import",
          ...(typeof value.notebook === "string" ? { notebook: value.notebook } : {}),
        };
        if (typeof value.format === "number" && value.format > SESSION_FORMAT) problems.push(`the log has format ${value.format}, newer than this labnote reads (${SESSION_FORMAT})`);
      } else problems.push("line 1 is not a session header");
      return;
    }
    const e = parseEntry(value);
    if (e === undefined) problems.push(`line ${n + 1} is not a cell entry`);
    else byIndex.set(e.i, e);
  });
  const entries = [...byIndex.values()].sort((a, b) => a.i - b.i);
  return { header, entries, problems };
}

/** A links file's content, or undefined when it is not one. */
export function parseSnapshotLinks(text: string): SnapshotLinks | undefined {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(x) || !Array.isArray(x.runs)) return undefined;
  return {
    format: 1,
    notebook: typeof x.notebook === "string" ? x.notebook : "",
    session: typeof x.session === "string" ? x.session : "",
    time: typeof x.time === "number" ? x.time : 0,
    runs: x.runs.filter((r): r is string => typeof r === "string"),
  };
}

/** True when a cell asks to stay out of the history: its first line is `// labnote: ignore`. */
export function isIgnoredCell(source: string): boolean {
  const first = source.replace(/^\uFEFF/, "").split("\n", 1)[0] ?? "";
  return /^\s*\/\/\s*labnote:\s*ignore\s*$/.test(first);
}

/** The NODE_OPTIONS entry that loads labnote's kernel preload (`file`) before a kernel starts, as `labnote install` writes it. */
export function preloadOption(file: string): string {
  return `--require ${JSON.stringify(file)}`;
}

/** The cell a run started in: its first recorded cell, when that cell began before the run. */
export function startCell<C extends { startTime: number; executionCount: number }>(record: { startTime: number; cells: readonly C[] }): C | undefined {
  const first = record.cells[0];
  return first !== undefined && first.startTime <= record.startTime ? first : undefined;
}

/**
 * Where a run came from, as a card and a history row say it: the notebook's file name and the
 * execution count of the cell that started it (`spirals.ipynb [7]`); undefined for a run made
 * outside a notebook.
 */
export function originLabel(record: { startTime: number; notebook?: string; cells: readonly { startTime: number; executionCount: number; notebook?: string }[] }): string | undefined {
  const cell = startCell(record);
  const notebook = record.notebook ?? cell?.notebook;
  const name = notebook === undefined ? undefined : notebook.split(/[\\/]/).pop();
  const count = cell !== undefined && cell.executionCount > 0 ? `[${cell.executionCount}]` : undefined;
  if (name === undefined && count === undefined) return undefined;
  return [name ?? "cell", count].filter(Boolean).join(" ");
}

/** What an ignored cell's source becomes in a notebook file stored in the history. */
export const IGNORED_CELL_TEXT = "// labnote: ignore\n// (this cell is not recorded)";

/**
 * A notebook file's text with the cells that ask to stay out of the history (`// labnote:
 * ignore`) emptied, outputs included; undefined when it has none (or is not a notebook), so the
 * file can be stored as it is.
 */
export function redactIgnoredCells(text: string): string | undefined {
  if (!text.includes("labnote")) return undefined;
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(nb) || !Array.isArray(nb.cells)) return undefined;
  let changed = false;
  for (const cell of nb.cells) {
    if (!isPlainObject(cell) || cell.cell_type !== "code") continue;
    const source = Array.isArray(cell.source) ? cell.source.join("") : typeof cell.source === "string" ? cell.source : "";
    if (!isIgnoredCell(source)) continue;
    cell.source = IGNORED_CELL_TEXT;
    if (Array.isArray(cell.outputs)) cell.outputs = [];
    changed = true;
  }
  return changed ? JSON.stringify(nb, null, 1) + "\n" : undefined;
}
