/**
 * What the notebook tests share: run a notebook from `notebooks/` on a copy in a temporary
 * folder (so the repository's `notebooks/experiments/` stays clean), and read what it left:
 * the cards and tables in its outputs, and the files in its store.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { executeNotebook, repoRoot, venvPython, type ExecutedNotebook, type JupyterMessage } from "../helpers";
import { MIME, blobPath, type ProgressPayload, type RunPayload, type TablePayload } from "../../src/protocol";
import type { RunRecord } from "../../src/protocol";
import { readMetricPoints } from "../../src/history/metrics";

export { MIME };
export type { ProgressPayload, RunPayload, TablePayload, RunRecord };

/** The four MIME types every run card carries. */
export const CARD_MIMES = [MIME.run, "application/vnd.vegalite.v5+json", "text/html", "text/plain"];
export const MAX_BUNDLE_BYTES = 64 * 1024;

/**
 * A folder in the temporary directory with a `node_modules` link to the repository's, so
 * that `labnote` (the repository itself, through its self-link) and `arquero` resolve from
 * a notebook's cells.
 */
export function makeWorkDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `labnote-${prefix}-`));
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** The notebook as committed in `notebooks/`. */
export function readNotebook(name: string): { cells: { cell_type: string; source: string | string[]; outputs?: unknown[]; metadata: Record<string, any> }[]; metadata: Record<string, any>; nbformat: number } {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, "notebooks", name), "utf8"));
}

/** The text of a cell's source, whichever way nbformat stored it. */
export function sourceText(source: string | string[]): string {
  return Array.isArray(source) ? source.join("") : source;
}

export interface NotebookRun {
  /** The temporary folder the notebook ran in (the kernel's working directory). */
  readonly dir: string;
  /** The store root the notebook wrote (`<dir>/experiments`). */
  readonly root: string;
  readonly result: ExecutedNotebook;
  /** Every IOPub message of the whole notebook, in order. */
  readonly messages: JupyterMessage[];
  /** Deletes the folder. */
  cleanup(): void;
}

/** Runs `notebooks/<name>` through nbclient and the tslab kernel, on a copy in a temporary folder. */
export async function runNotebook(name: string, options: { timeout?: number } = {}): Promise<NotebookRun> {
  const dir = makeWorkDir(path.basename(name, ".ipynb"));
  const copy = path.join(dir, name);
  fs.copyFileSync(path.join(repoRoot, "notebooks", name), copy);
  // The store root is the default one, experiments/ beside the notebook, whatever the
  // environment of the test run says (an empty LABNOTE_DIR counts as unset).
  const env: Record<string, string> = { LABNOTE_DIR: "" };
  const result = await executeNotebook(copy, { cwd: dir, env, timeout: options.timeout ?? 90_000, totalTimeout: 240_000 });
  return {
    dir,
    root: path.join(dir, "experiments"),
    result,
    messages: result.messages.flat(),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Index of the first code cell whose source contains `needle`. */
export function cellIndex(result: ExecutedNotebook, needle: string): number {
  const i = result.notebook.cells.findIndex((c) => c.cell_type === "code" && sourceText(c.source as string | string[]).includes(needle));
  assert.notEqual(i, -1, `no code cell contains ${JSON.stringify(needle)}`);
  return i;
}

/** All stream text of one cell's saved outputs. */
export function cellText(result: ExecutedNotebook, index: number, name?: "stdout" | "stderr"): string {
  return (result.notebook.cells[index].outputs ?? [])
    .filter((o) => o.output_type === "stream" && (name === undefined || o.name === name))
    .map((o) => (Array.isArray(o.text) ? o.text.join("") : String(o.text)))
    .join("");
}

/** The display messages (display_data and update_display_data) that carry `mime`. */
export function bundles(messages: readonly JupyterMessage[], mime: string): JupyterMessage[] {
  return messages.filter((m) => (m.msg_type === "display_data" || m.msg_type === "update_display_data") && m.content.data?.[mime] !== undefined);
}

export interface Card {
  readonly displayId: string;
  /** The first message, a display_data. */
  readonly shown: JupyterMessage;
  /** Every message of this card (the display and its updates), in order. */
  readonly messages: JupyterMessage[];
  /** The last payload sent: the card's final state. */
  readonly final: RunPayload;
}

/** The run cards among `messages`, keyed by run id, each with its display and updates. */
export function cards(messages: readonly JupyterMessage[]): Map<string, Card> {
  const byDisplay = new Map<string, JupyterMessage[]>();
  for (const m of bundles(messages, MIME.run)) {
    const id = m.content.transient?.display_id;
    assert.equal(typeof id, "string", `a run bundle without a display_id: ${JSON.stringify(m.content).slice(0, 200)}`);
    if (!byDisplay.has(id)) byDisplay.set(id, []);
    byDisplay.get(id)!.push(m);
  }
  const out = new Map<string, Card>();
  for (const [displayId, list] of byDisplay) {
    assert.equal(list[0].msg_type, "display_data", `card ${displayId} was updated before it was shown`);
    const final = list[list.length - 1].content.data[MIME.run] as RunPayload;
    assert.ok(!out.has(final.id), `two cards for run ${final.id}`);
    out.set(final.id, { displayId, shown: list[0], messages: list, final });
  }
  return out;
}

/** Every card message carries all four MIME types and fits the size limit; each card was updated. */
export function checkCardBundles(messages: readonly JupyterMessage[]): void {
  const all = bundles(messages, MIME.run);
  assert.ok(all.length > 0, "no run card was sent");
  for (const m of all) {
    for (const mime of CARD_MIMES) assert.ok(m.content.data[mime] !== undefined, `${m.msg_type} of ${m.content.data[MIME.run].id} lacks ${mime}`);
    const bytes = Buffer.byteLength(JSON.stringify(m.content.data), "utf8");
    assert.ok(bytes <= MAX_BUNDLE_BYTES, `a bundle of ${m.content.data[MIME.run].id} has ${bytes} bytes`);
  }
  for (const card of cards(messages).values())
    assert.ok(card.messages.some((m) => m.msg_type === "update_display_data"), `card of ${card.final.id} was never updated`);
}

/** The run payloads shown in a cell's saved outputs (as nbclient folded the updates in). */
export function savedCards(result: ExecutedNotebook, index: number): RunPayload[] {
  return (result.notebook.cells[index].outputs ?? [])
    .filter((o) => o.output_type === "display_data" && o.data?.[MIME.run] !== undefined)
    .map((o) => o.data[MIME.run] as RunPayload);
}

/** A run's `run.json`. */
export function readRecord(root: string, experiment: string, n: number): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(root, experiment, String(n), "run.json"), "utf8"));
}

/** Run numbers present in the store for an experiment. */
export function runNumbers(root: string, experiment: string): number[] {
  return fs
    .readdirSync(path.join(root, experiment))
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .sort((a, b) => a - b);
}

/** The rows of a run's metrics as { metric, step, value, time }, read through the store's own reader (metrics.csv may still be in the making). */
export function readMetrics(root: string, experiment: string, n: number): { metric: string; step: number; value: number; time: number }[] {
  const rows: { metric: string; step: number; value: number; time: number }[] = [];
  for (const [metric, p] of readMetricPoints(path.join(root, experiment, String(n)), `${experiment}/${n}`))
    p.steps.forEach((step, i) => rows.push({ metric, step, value: p.values[i], time: p.times[i] }));
  return rows;
}

/** How many rows each metric has in a run's `metrics.csv`. */
export function metricCounts(root: string, experiment: string, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of readMetrics(root, experiment, n)) counts[row.metric] = (counts[row.metric] ?? 0) + 1;
  return counts;
}

/** The text of a blob of the store (cell sources, resources). */
export function readBlob(root: string, sha256: string): string {
  return fs.readFileSync(path.join(root, blobPath(sha256)), "utf8");
}

/** Runs a Python snippet in the project's `.venv` (NumPy is there) and parses its JSON output. */
export function python(code: string): unknown {
  const out = execFileSync(venvPython(), ["-c", code], { encoding: "utf8" });
  return JSON.parse(out);
}

/** Each metric of a card's payload with its point count. */
export function cardSummary(payload: RunPayload): Record<string, number> {
  return Object.fromEntries(payload.metrics.map((m) => [m.name, m.count]));
}
