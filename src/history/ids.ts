/**
 * Run ids as people type them on the command line, checked against what the store holds:
 * `<experiment>/<number>`, or a bare `<number>` when the store holds one experiment only.
 * A wrong experiment or number gets an error that says what exists ("did you mean").
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, didYouMean, type RunRecord } from "../protocol";
import { listExperiments, readRunRecord, runDir, runNumbers } from "./read";

/** A run named on the command line: where it is, and its record when it can be read. */
export interface FoundRun {
  id: string;
  experiment: string;
  number: number;
  dir: string;
  record: { ok: true; record: RunRecord } | { ok: false; reason: string; file: string };
}

/** Run numbers as a person reads them: `1–4, 7, 9–12`. */
export function numberRanges(ns: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
    out.push(j === i ? String(ns[i]) : j === i + 1 ? `${ns[i]}, ${ns[j]}` : `${ns[i]}–${ns[j]}`);
    i = j + 1;
  }
  return out.join(", ");
}

/** The experiment `name` under `root`, or an error naming those that exist. */
export function checkExperiment(root: string, name: string): string {
  const known = listExperiments(root);
  if (known.includes(name)) return name;
  throw new LabnoteError("NOT_FOUND", `No experiment "${name}" under ${root}`, didYouMean(name, known, "experiments"));
}

/**
 * Find a run by its id as typed: `mnist/3`, or `3` when the store has one experiment.
 * @example findRun(root, "mnist/3").record
 */
export function findRun(root: string, text: string): FoundRun {
  const m = /^(?:(.+)\/)?(\d+)$/.exec(text.trim());
  const experiments = listExperiments(root);
  if (!m) {
    const known = experiments.includes(text) ? ` ("${text}" is an experiment: name one of its runs, e.g. ${text}/1)` : "";
    throw new LabnoteError("NOT_FOUND", `Invalid run id "${text}"`, `a run id is <experiment>/<number>, e.g. ${experiments[0] ?? "mnist"}/1${known}`);
  }
  let experiment = m[1];
  if (experiment === undefined) {
    if (experiments.length !== 1)
      throw new LabnoteError("NOT_FOUND", `Ambiguous run id "${text}"`, experiments.length ? `name the experiment too, e.g. ${experiments[0]}/${m[2]} (experiments: ${experiments.join(", ")})` : `there are no experiments under ${root}`);
    experiment = experiments[0];
  }
  experiment = checkExperiment(root, experiment);
  const number = Number(m[2]);
  const dir = runDir(root, experiment, number);
  if (!fs.existsSync(dir) || String(number) !== m[2]) {
    const ns = runNumbers(root, experiment);
    throw new LabnoteError("NOT_FOUND", `No run ${experiment}/${m[2]}`, ns.length ? `${experiment} has run${ns.length === 1 ? "" : "s"} ${numberRanges(ns)}` : `${experiment} has no runs yet`);
  }
  return { id: `${experiment}/${number}`, experiment, number, dir, record: readRunRecord(root, experiment, number) };
}

/** {@link findRun}, and its record, or an error saying why it cannot be read. */
export function findRecord(root: string, text: string): RunRecord {
  const found = findRun(root, text);
  if (!found.record.ok) throw new LabnoteError("STORE_READ", `Cannot read run ${found.id}`, `${found.record.reason} (${path.relative(process.cwd(), found.record.file) || found.record.file})`);
  return found.record.record;
}
