/**
 * Reading sweep records (`<root>/<experiment>/_sweeps/<number>.json`). Reading never writes; a
 * record that cannot be read is reported with the file and the reason.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as aq from "arquero";
import { SWEEPS_DIR, checkSegment, fromWire, isSweepFile, latestTrials, parseSweepRecord, rankTrials, storeError, sweepPath, type RunRecord, type SweepRecord } from "../protocol";
import { listNames } from "./read";
import type { RunsTable } from "./table";

export type { RunsTable };

/** The record of sweep `number` of `experiment`, or why it cannot be read. */
export function readSweepRecord(root: string, experiment: string, number: number): { ok: true; record: SweepRecord } | { ok: false; reason: string; file: string } {
  const file = path.join(root, sweepPath(checkSegment("experiment", experiment), number));
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === "ENOENT" ? "no such sweep" : storeError("read", file, e).message, file };
  }
  const parsed = parseSweepRecord(text);
  if (!parsed.ok) return { ok: false, reason: parsed.reason, file };
  if (parsed.record.experiment !== experiment || parsed.record.number !== number) return { ok: false, reason: `the file says it is sweep ${parsed.record.id}`, file };
  return { ok: true, record: parsed.record };
}

/** Sweep numbers present on disk, ascending. */
export function sweepNumbers(root: string, experiment: string): number[] {
  return listNames(path.join(root, checkSegment("experiment", experiment), SWEEPS_DIR), isSweepFile)
    .map((n) => Number(n.slice(0, -5)))
    .sort((a, b) => a - b);
}

/**
 * Every readable sweep record of an experiment, oldest first; each unreadable one is passed to
 * `onUnreadable` (by default one line on stderr).
 */
export function readSweeps(root: string, experiment: string, onUnreadable: (file: string, reason: string) => void = warnSweep): SweepRecord[] {
  const out: SweepRecord[] = [];
  for (const n of sweepNumbers(root, experiment)) {
    const r = readSweepRecord(root, experiment, n);
    if (r.ok) out.push(r.record);
    else onUnreadable(r.file, r.reason);
  }
  return out;
}

function warnSweep(file: string, reason: string): void {
  console.warn(`labnote: skipped sweep ${file}: ${reason}`);
}

/**
 * A sweep's trials as an arquero table, one row per trial (its latest attempt), best first by
 * the metric: trial (from 1), run, status, one column per key of the space, the metric, duration
 * (seconds), error.
 */
export function sweepTable(record: SweepRecord, runs: readonly RunRecord[]): RunsTable {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const ranked = rankTrials(latestTrials(record.runs), record.goal);
  const keys = Object.keys(record.space);
  const metric = record.metric ?? "value";
  const cols: Record<string, unknown[]> = { trial: [], run: [], status: [] };
  for (const k of keys) cols[k] = [];
  cols[metric] = [];
  cols.duration = [];
  cols.error = [];
  for (const t of ranked) {
    const rec = byId.get(t.run);
    cols.trial.push(t.trial + 1);
    cols.run.push(t.run);
    cols.status.push(rec?.status ?? t.status);
    for (const k of keys) cols[k].push(t.params[k]);
    cols[metric].push(t.value === undefined ? undefined : fromWire(t.value));
    cols.duration.push(rec?.duration === undefined ? undefined : rec.duration / 1000);
    cols.error.push(t.error);
  }
  return aq.table(cols) as unknown as RunsTable;
}
