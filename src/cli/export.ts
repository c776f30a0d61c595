/**
 * `labnote export`: a run's metrics as metrics.csv, from whatever format the store holds
 * (format 2 columns or an old metrics.csv), to stdout, a file, or into the runs' own folders
 * where a finished run has none yet (its process ended before the file was written).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, RUN_FILES, metricFiles, type RunRecord } from "../protocol";
import { writeMetricsCsv } from "../history/metrics";
import { reproductionNotebook, reproductionScript } from "../history/reproduce";
import { defaultRoot } from "../history/paths";
import { parseRunId, readHistory, readRunRecord, runDir } from "../history/read";
import { writeAtomicBy } from "../sinks/file/atomic";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";

const usage = `Usage: labnote export <experiment>/<number> [--to csv] [--root DIR] [--out FILE]
       labnote export <experiment>/<number> --to notebook|script [--root DIR] [--out FILE]
       labnote export --experiment NAME [--to csv] [--root DIR]

Writes a run's metrics as CSV (metric,step,value,time), whatever format the store keeps them
in. With a run, to stdout or to --out FILE. With --experiment and no run, into each finished
run's own folder as metrics.csv, for the runs that have none yet.

With --to notebook, a notebook (tslab) that reproduces the run: its lineage in execution
order, seeds pinned; --to script, the same as one .ts file.

Options:
  --to FORMAT         csv (default), notebook or script
  --root DIR          store root (default: $LABNOTE_DIR or ./experiments)
  --out FILE          write to FILE (atomically) instead of stdout
  --experiment NAME   every finished run of this experiment`;

/** The experiment and number of `<experiment>/<number>`. */
function splitRunId(id: string): { experiment: string; number: number } {
  const cut = id.lastIndexOf("/");
  if (cut <= 0) throw new UsageError(`expected a run id like mnist/3, got "${id}"`);
  const experiment = id.slice(0, cut);
  return { experiment, number: parseRunId(experiment, id) };
}

/** The record of one run, or a clear error naming it. */
function recordOf(root: string, experiment: string, number: number): RunRecord {
  const r = readRunRecord(root, experiment, number);
  if (!r.ok) throw new LabnoteError("NOT_FOUND", `No run ${experiment}/${number} under ${root}`, `${r.file}: ${r.reason}`);
  return r.record;
}

function hasMetrics(dir: string): boolean {
  return fs.existsSync(path.join(dir, metricFiles.index)) || fs.existsSync(path.join(dir, RUN_FILES.metrics));
}

/** One run to stdout or a file. */
function exportRun(root: string, id: string, out: string | undefined): number {
  const { experiment, number } = splitRunId(id);
  const rec = recordOf(root, experiment, number);
  const dir = runDir(root, experiment, number);
  if (out === undefined) {
    writeMetricsCsv(dir, rec.id, (text) => process.stdout.write(text));
    return 0;
  }
  let points = 0;
  writeAtomicBy(path.resolve(out), (write) => (points = writeMetricsCsv(dir, rec.id, write)));
  console.error(`labnote export: wrote ${points} points of run ${rec.id} to ${out}`);
  return 0;
}

/** A notebook or script that reproduces one run, to stdout or a file. */
function exportReproduction(root: string, id: string | undefined, to: "notebook" | "script", out: string | undefined): number {
  if (id === undefined) throw new UsageError(`--to ${to} needs a run id (e.g. mnist/3)`);
  const { experiment, number } = splitRunId(id);
  const rec = recordOf(root, experiment, number);
  const text = to === "notebook" ? JSON.stringify(reproductionNotebook(root, rec), null, 1) + "\n" : reproductionScript(root, rec);
  if (out === undefined) process.stdout.write(text);
  else {
    writeAtomicBy(path.resolve(out), (write) => write(text));
    console.error(`labnote export: wrote the ${to} reproducing run ${rec.id} to ${out}`);
  }
  return 0;
}

/** metrics.csv into every finished run's folder that lacks one. */
function exportExperiment(root: string, experiment: string): number {
  if (!fs.existsSync(path.join(root, experiment))) throw new LabnoteError("NOT_FOUND", `No experiment "${experiment}" under ${root}`, "check --root and the name (labnote runs lists them)");
  let wrote = 0;
  for (const rec of readHistory(root, experiment)) {
    const dir = runDir(root, experiment, rec.number);
    const csv = path.join(dir, RUN_FILES.metrics);
    if (rec.status === "running") {
      console.error(`labnote export: skipped run ${rec.id}: it is still running (its metrics.csv is written when it ends)`);
      continue;
    }
    if (fs.existsSync(csv) || !hasMetrics(dir)) continue;
    let points = 0;
    writeAtomicBy(csv, (write) => (points = writeMetricsCsv(dir, rec.id, write)));
    console.log(`${rec.id}: wrote ${csv} (${points} points)`);
    wrote++;
  }
  if (wrote === 0) console.log(`${experiment}: every finished run already has its metrics.csv`);
  return 0;
}

/** `labnote export`: a run's metrics as CSV, whatever format the store holds them in. */
export const command: Command = {
  name: "export",
  summary: "write a run's metrics as CSV (to stdout, a file, or the runs' own folders)",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { to: "string", root: "string", out: "string", experiment: "string" });
    const to = (flags.to as string | undefined) ?? "csv";
    if (to !== "csv" && to !== "notebook" && to !== "script") throw new UsageError(`--to must be csv, notebook or script, not "${to}"`);
    const root = path.resolve(typeof flags.root === "string" ? flags.root : defaultRoot());
    if (positional.length > 1) throw new UsageError(`unexpected argument "${positional[1]}"`);
    const [id] = positional;
    if (to === "notebook" || to === "script") return exportReproduction(root, id, to, flags.out as string | undefined);
    if (id !== undefined) {
      if (flags.experiment !== undefined) throw new UsageError("give a run id or --experiment, not both");
      return exportRun(root, id, flags.out as string | undefined);
    }
    if (typeof flags.experiment !== "string") throw new UsageError("name a run (e.g. mnist/3) or an experiment (--experiment mnist)");
    if (flags.out !== undefined) throw new UsageError("--out goes with one run; with --experiment each run's metrics.csv goes into its own folder");
    return exportExperiment(root, flags.experiment);
  },
};
