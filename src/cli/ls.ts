/**
 * `labnote ls [experiment]`: the runs of an experiment (or of every experiment in the store)
 * as a table, CSV or JSON, optionally filtered by the query language of `src/protocol/query.ts`.
 */
import * as path from "node:path";
import { LabnoteError, configValueText, csvField, flattenConfig, formatDuration, formatNumber, matchRecord, parseQuery, queryProblems, recordJson, textTable, type RunRecord } from "../protocol";
import { checkExperiment } from "../history/ids";
import { listExperiments, readHistory } from "../history/read";
import { runsColumns } from "../history/table";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote ls [experiment] [--filter EXPR] [--json | --csv] [--all-columns] [--root DIR]

Lists runs: number, name, status, start, duration, the config keys that differ between the
runs listed and each metric's last value. Without an experiment, every experiment in the store.

Options:
${ROOT_OPTION}
  --filter EXPR       only the runs that match, e.g. 'lr<0.01 status=completed tag:v1 name~adam loss.min<0.1'
                      (key OP value with = != < <= > >= ~; keys: config keys, metrics (loss, loss.min),
                      status, name, tag; plain words match names, tags and the status)
  --json              the runs' records as one JSON array
  --csv               one row per run, every config key and metric summary as a column
  --all-columns       in the table, every config key and every metric, not only what varies`;

/** Local date and time to the minute: `2026-12-01 23:31`. */
export function formatStart(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

const MAX_CONFIG = 8;
const MAX_METRICS = 6;

/** Config keys worth a column: those that differ between the runs, else the modified ones. */
function configColumns(records: readonly RunRecord[], flat: Record<string, unknown>[], all: boolean): string[] {
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  if (all) return keys.sort();
  const varies = keys.filter((k) => new Set(flat.map((f) => (k in f ? JSON.stringify(f[k]) : "\u0000"))).size > 1);
  if (varies.length || records.length > 1) return varies.sort().slice(0, MAX_CONFIG);
  return [...new Set(records.flatMap((r) => r.modified.concat(r.added)))].filter((k) => keys.includes(k)).slice(0, MAX_CONFIG);
}

/** The runs as an aligned table. */
export function runsText(records: readonly RunRecord[], all = false): string {
  const flat = records.map((r) => flattenConfig(r.config));
  const config = configColumns(records, flat, all);
  const metricNames = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
  const metrics = all ? metricNames : metricNames.slice(0, MAX_METRICS);
  const head = ["#", "name", "status", "started", "duration", ...config, ...metrics.map((m) => (config.includes(m) ? `${m} (last)` : m))];
  const rows = records.map((r, i) => [
    String(r.number),
    r.name,
    r.status,
    formatStart(r.startTime),
    formatDuration(r.duration),
    ...config.map((k) => (k in flat[i] ? configValueText(flat[i][k]) : "")),
    ...metrics.map((m) => (r.metrics[m] ? formatNumber(r.metrics[m].last) : "")),
  ]);
  return textTable(head, rows);
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** The runs as CSV: every column of the runs table, numbers exact. */
export function runsCsv(records: readonly RunRecord[]): string {
  const cols = runsColumns(records);
  const names = Object.keys(cols);
  const lines = [names.map(csvField).join(",")];
  for (let i = 0; i < records.length; i++) lines.push(names.map((c) => csvField(cellText(cols[c][i]))).join(","));
  return lines.join("\n") + "\n";
}

/** `labnote ls`, shared with its alias `labnote runs`. */
export function listRuns(args: { root: string | undefined; experiment?: string; filter?: string; format: "table" | "json" | "csv"; all: boolean }): number {
  const root = storeRoot(args.root);
  const query = args.filter === undefined ? undefined : parseQuery(args.filter);
  const experiments = args.experiment !== undefined ? [checkExperiment(root, args.experiment)] : listExperiments(root);
  if (experiments.length === 0) throw new LabnoteError("NOT_FOUND", `No experiments under ${root}`, "run an experiment first, or point --root at a store");
  const sections = experiments.map((name) => ({ name, records: readHistory(root, name) }));
  if (query) {
    const problems = queryProblems(query, sections.flatMap((s) => s.records));
    if (problems.length) throw new LabnoteError("INVALID_VALUE", "Invalid filter", problems.join("; "));
    for (const s of sections) s.records = s.records.filter((r) => matchRecord(query, r));
  }
  const all = sections.flatMap((s) => s.records);
  if (args.format === "json") {
    process.stdout.write(recordJson(all, 2) + "\n");
    return 0;
  }
  if (args.format === "csv") {
    process.stdout.write(runsCsv(all));
    return 0;
  }
  const out: string[] = [];
  for (const s of sections) {
    if (query && s.records.length === 0 && sections.length > 1) continue;
    const n = s.records.length;
    out.push(`${s.name} — ${n} run${n === 1 ? "" : "s"}${query ? " matching the filter" : ""} in ${path.join(root, s.name)}`);
    out.push(n ? runsText(s.records, args.all) : query ? "(no run matches)" : "(no runs yet)");
    out.push("");
  }
  if (out.length === 0) out.push(`(no run of ${experiments.length} experiments matches)`, "");
  process.stdout.write(out.join("\n"));
  return 0;
}

/** `labnote ls`: list runs. */
export const command: Command = {
  name: "ls",
  summary: "list runs as a table, CSV or JSON, optionally filtered (--filter 'lr<0.01 status=completed')",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string", filter: "string", json: "boolean", csv: "boolean", "all-columns": "boolean" });
    if (positional.length > 1) throw new UsageError(`unexpected argument "${positional[1]}" (name one experiment, or none for all)`);
    if (flags.json && flags.csv) throw new UsageError("give --json or --csv, not both");
    return listRuns({ root: flags.root as string | undefined, experiment: positional[0], filter: flags.filter as string | undefined, format: flags.json ? "json" : flags.csv ? "csv" : "table", all: flags["all-columns"] === true });
  },
};
