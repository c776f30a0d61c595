/**
 * `labnote runs`: the runs of an experiment (or of every experiment under a root) as a
 * table, CSV or JSON, read from disk the same way exp.history() reads it.
 */
import * as path from "node:path";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { csvField, formatDuration, formatNumber, textTable as renderTable, type RunRecord } from "../protocol";
import { defaultRoot } from "../history/paths";
import { listExperiments, readHistory } from "../history/read";
import { runsColumns } from "../history/table";

const usage = `Usage: labnote runs [--root DIR] [--experiment NAME] [--format table|csv|json] [--all-columns]

Lists runs with status, duration, the config keys that differ between runs and each metric's
last value. Without --experiment, every experiment under the root.

Options:
  --root DIR          store root (default: $LABNOTE_DIR or ./experiments)
  --experiment NAME   one experiment
  --format FORMAT     table (default), csv or json (full records)
  --all-columns       every config column and metric min/max, not only what varies`;

function show(v: unknown, col: string): string {
  if (v === undefined || v === null) return "";
  if (col === "duration" && typeof v === "number") return formatDuration(v * 1000);
  if (typeof v === "number") return formatNumber(v);
  if (v instanceof Date) return v.toISOString().replace("T", " ").slice(0, 19);
  return String(v);
}

/** The columns worth a person's attention: config keys that vary, and last metric values. */
export function pickColumns(cols: Record<string, unknown[]>, all: boolean): string[] {
  const base = ["id", "name", "status", "duration"];
  const rest = Object.keys(cols).filter((c) => !["id", "number", "name", "status", "tags", "startTime", "endTime", "duration"].includes(c));
  if (all) return [...base, "tags", ...rest];
  const varies = (c: string) => new Set(cols[c].map((v) => JSON.stringify(v ?? null))).size > 1;
  const config = rest.filter((c) => c.startsWith("config.") && varies(c));
  const metrics = rest.filter((c) => c.endsWith(".last") && !c.startsWith("config."));
  return [...base, ...config, ...metrics];
}

/** Render records as an aligned text table. */
export function textTable(records: readonly RunRecord[], all = false): string {
  const cols = runsColumns(records);
  const names = pickColumns(cols, all);
  return renderTable(names, records.map((_, i) => names.map((c) => show(cols[c][i], c))));
}

export const command: Command = {
  name: "runs",
  summary: "list the runs of an experiment as a table, CSV or JSON",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { root: "string", experiment: "string", format: "string", "all-columns": "boolean" });
    if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const root = path.resolve(typeof flags.root === "string" ? flags.root : defaultRoot());
    const format = (flags.format as string | undefined) ?? "table";
    if (!["table", "csv", "json"].includes(format)) throw new UsageError(`--format must be table, csv or json, not "${format}"`);
    const experiments = typeof flags.experiment === "string" ? [flags.experiment] : listExperiments(root);
    if (experiments.length === 0) {
      console.error(`labnote runs: no experiments under ${root}`);
      return 1;
    }
    for (const name of experiments) {
      const records = readHistory(root, name);
      if (format === "json") {
        console.log(JSON.stringify(records, null, 2));
        continue;
      }
      if (format === "csv") {
        const cols = runsColumns(records);
        const names = Object.keys(cols);
        console.log(names.map(csvField).join(","));
        records.forEach((_, i) => console.log(names.map((c) => csvField(show(cols[c][i], c === "duration" ? "" : c))).join(",")));
        continue;
      }
      console.log(`${name} — ${records.length} run${records.length === 1 ? "" : "s"} in ${path.join(root, name)}`);
      console.log(records.length ? textTable(records, flags["all-columns"] === true) : "(no runs yet)");
      if (experiments.length > 1) console.log("");
    }
    return 0;
  },
};
