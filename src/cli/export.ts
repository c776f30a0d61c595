/**
 * `labnote export`: a run's (or an experiment's) records and metrics as CSV or JSON, streamed
 * from whatever format the store holds (a 10M-point run is never held in memory); a notebook or
 * script that reproduces a run; or metrics.csv into the runs' own folders where a finished run
 * has none yet (its process ended before the file was written).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, METRICS_HEADER, RUN_FILES, csvField, didYouMean, metricFiles, metricRows, recordJson, type RunRecord } from "../protocol";
import { checkExperiment, findRecord } from "../history/ids";
import { metricStreams, writeMetricsCsv } from "../history/metrics";
import { listExperiments, readHistory, runDir } from "../history/read";
import { reproductionNotebook, reproductionScript } from "../history/reproduce";
import { writeAtomicBy } from "../sinks/file/atomic";
import { exportTensorBoard } from "../sinks/tensorboard/export";
import { parseArgs } from "./args";
import { UsageError, type Command } from "./command";
import { Progress } from "./progress";
import { ROOT_OPTION, storeRoot } from "./store";

const usage = `Usage: labnote export <run-id | experiment> [--to csv|json] [--out PATH] [--root DIR]
       labnote export <run-id> --to notebook|script [--out FILE] [--root DIR]
       labnote export <run-id | experiment> --to tensorboard --out DIR [--root DIR]
       labnote export --experiment NAME [--root DIR]

Writes a run's metrics, or every run of an experiment, to stdout or to --out PATH (atomically):
  --to csv       a run: its metrics.csv (metric,step,value,time); an experiment: the same with
                 the run first (run,metric,step,value,time)
  --to json      {"format": 1, "runs": [{"record": {…}, "metrics": {"loss": {"count", "steps",
                 "values", "times"}}}]}; NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity"
  --to notebook  a notebook (tslab) that reproduces the run: its lineage in execution order, seeds pinned
  --to script    the same as one .ts file
  --to tensorboard  TensorBoard event files under --out DIR, one subfolder per run
                 (<experiment>/<number> <name>); exporting again replaces them
With --experiment NAME, metrics.csv into each finished run's own folder that has none yet.

Options:
${ROOT_OPTION}
  --to FORMAT         csv (default), json, notebook, script or tensorboard
  --out PATH          write to PATH (atomically) instead of stdout
  --experiment NAME   write the missing metrics.csv files of this experiment's finished runs`;

/** Where the export goes: stdout, or a file written atomically. */
function output(out: string | undefined, fill: (write: (text: string) => void) => void): void {
  if (out === undefined) {
    fill((text) => process.stdout.write(text));
    return;
  }
  const file = path.resolve(out);
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw new LabnoteError("NOT_FOUND", `Cannot write ${out}`, `the folder ${dir} does not exist`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new LabnoteError("INVALID_VALUE", `Cannot write ${out}`, "it is a folder; give a file name");
  writeAtomicBy(file, fill);
}

/** A number as JSON: non-finite ones as the strings the records use. */
function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

const JSON_CHUNK = 1 << 14;

/** One run as JSON, its metric arrays streamed a slice at a time. */
function writeRunJson(root: string, rec: RunRecord, write: (text: string) => void, progress: Progress): void {
  write(`{"record":${recordJson(rec)},"metrics":{`);
  const streams = metricStreams(runDir(root, rec.experiment, rec.number), rec.id);
  streams.forEach((m, k) => {
    write(`${k ? "," : ""}${JSON.stringify(m.name)}:{"count":${m.count}`);
    for (const field of ["steps", "values", "times"] as const) {
      write(`,"${field}":[`);
      let first = true;
      m.slices((p, n) => {
        const arr = p[field];
        for (let i = 0; i < n; i += JSON_CHUNK) {
          let s = "";
          const to = Math.min(n, i + JSON_CHUNK);
          for (let j = i; j < to; j++) {
            s += (first ? "" : ",") + jsonNumber(arr[j]);
            first = false;
          }
          write(s);
        }
        // One pass of three counts the points once.
        if (field === "values") progress.tick(n);
      });
      write("]");
    }
    write("}");
  });
  write("}}");
}

/** The points of these runs, for the progress bar. */
function pointsOf(root: string, records: readonly RunRecord[]): number {
  let n = 0;
  for (const r of records) for (const m of metricStreams(runDir(root, r.experiment, r.number), r.id)) n += m.count;
  return n;
}

/** Runs as CSV (one run: its metrics.csv; several: a `run` column first) or JSON. */
function exportRuns(root: string, records: RunRecord[], to: "csv" | "json", out: string | undefined, single: boolean): number {
  const progress = new Progress("export", pointsOf(root, records));
  let points = 0;
  try {
    output(out, (write) => {
      if (to === "json") {
        write(`{"format":1,"runs":[`);
        records.forEach((r, i) => {
          if (i) write(",");
          writeRunJson(root, r, write, progress);
        });
        write("]}\n");
        points = pointsOf(root, records);
        return;
      }
      if (single) {
        points = writeMetricsCsv(runDir(root, records[0].experiment, records[0].number), records[0].id, write, (n) => progress.tick(n));
        return;
      }
      write("run," + METRICS_HEADER);
      for (const r of records) {
        const head = csvField(r.id) + ",";
        for (const m of metricStreams(runDir(root, r.experiment, r.number), r.id))
          m.slices((p, n) => {
            write(
              metricRows(m.name, p.steps, p.values, p.times, 0, n)
                .split("\n")
                .map((l) => (l ? head + l : l))
                .join("\n"),
            );
            progress.tick(n);
            points += n;
          });
      }
    });
  } finally {
    progress.end();
  }
  if (out !== undefined) console.error(`labnote export: wrote ${points} points of ${single ? `run ${records[0].id}` : `${records.length} runs`} to ${out}`);
  return 0;
}

function hasMetrics(dir: string): boolean {
  return fs.existsSync(path.join(dir, metricFiles.index)) || fs.existsSync(path.join(dir, RUN_FILES.metrics));
}

/** metrics.csv into every finished run's folder that lacks one. */
function exportExperiment(root: string, experiment: string): number {
  checkExperiment(root, experiment);
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

/** A notebook or script that reproduces one run, to stdout or a file. */
function exportReproduction(root: string, rec: RunRecord, to: "notebook" | "script", out: string | undefined): number {
  const text = to === "notebook" ? JSON.stringify(reproductionNotebook(root, rec), null, 1) + "\n" : reproductionScript(root, rec);
  output(out, (write) => write(text));
  if (out !== undefined) console.error(`labnote export: wrote the ${to} reproducing run ${rec.id} to ${out}`);
  return 0;
}

const FORMATS = ["csv", "json", "notebook", "script", "tensorboard"] as const;

/** Runs as TensorBoard event files under `out`, a subfolder per run. */
function exportToTensorBoard(root: string, records: RunRecord[], out: string | undefined): number {
  if (out === undefined) throw new UsageError("--to tensorboard needs --out DIR (the folder TensorBoard's --logdir reads)");
  const total = records.reduce((n, r) => n + Object.values(r.metrics ?? {}).reduce((k, m) => k + m.count, 0), 0);
  const progress = new Progress("tensorboard", total);
  for (const r of records) {
    if (r.status === "running") {
      progress.say(`labnote export: skipped run ${r.id}: it is still running (the tensorboard option writes a running run live)`, "stderr");
      continue;
    }
    const done = exportTensorBoard(runDir(root, r.experiment, r.number), r, out, (n) => progress.tick(n));
    progress.say(`${r.id}: ${done.points} points, ${done.histograms} histograms → ${done.dir}`);
  }
  progress.end();
  return 0;
}

/** `labnote export`: records and metrics as CSV or JSON, a reproduction notebook or script. */
export const command: Command = {
  name: "export",
  summary: "write runs as CSV or JSON, or a notebook or script that reproduces a run",
  usage,
  run(args) {
    const { flags, positional } = parseArgs(args, { to: "string", root: "string", out: "string", experiment: "string" });
    const to = ((flags.to as string | undefined) ?? "csv") as (typeof FORMATS)[number];
    if (!FORMATS.includes(to)) throw new UsageError(`--to must be csv, json, notebook, script or tensorboard, not "${to}"`);
    if (positional.length > 1) throw new UsageError(`unexpected argument "${positional[1]}" (export one run or one experiment)`);
    const out = flags.out as string | undefined;
    const [target] = positional;
    if (target === undefined) {
      if (to === "notebook" || to === "script" || to === "tensorboard") throw new UsageError(`--to ${to} needs a run id (e.g. mnist/3)${to === "tensorboard" ? " or an experiment" : ""}`);
      if (typeof flags.experiment !== "string") throw new UsageError("name a run (e.g. mnist/3) or an experiment (mnist), or --experiment mnist to fill in missing metrics.csv files");
      if (flags.to !== undefined && to !== "csv") throw new UsageError(`--experiment writes metrics.csv into each run's folder; to export an experiment as ${to}, name it: labnote export ${flags.experiment} --to ${to}`);
      if (out !== undefined) throw new UsageError("--out goes with one run or experiment; with --experiment each run's metrics.csv goes into its own folder");
      return exportExperiment(storeRoot(flags.root), flags.experiment);
    }
    if (flags.experiment !== undefined) throw new UsageError("give a run id or --experiment, not both");
    const root = storeRoot(flags.root);
    const isRun = /\/\d+$|^\d+$/.test(target);
    if (!isRun && !listExperiments(root).includes(target))
      throw new LabnoteError("NOT_FOUND", `No run or experiment "${target}" under ${root}`, didYouMean(target, listExperiments(root), "experiments"));
    if (to === "notebook" || to === "script") {
      if (!isRun) throw new UsageError(`--to ${to} reproduces one run: name it, e.g. ${target}/1`);
      return exportReproduction(root, findRecord(root, target), to, out);
    }
    if (to === "tensorboard") return exportToTensorBoard(root, isRun ? [findRecord(root, target)] : readHistory(root, target), out);
    if (isRun) return exportRuns(root, [findRecord(root, target)], to, out, true);
    return exportRuns(root, readHistory(root, target), to, out, false);
  },
};
