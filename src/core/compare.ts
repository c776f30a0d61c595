/**
 * exp.best() and exp.compare(): the best finished run by a metric, and runs compared (config
 * diff, metric summaries side by side, code diff). The reading is the history's; the rules are
 * the protocol's.
 */
import { LabnoteError, bestRecord, describe, didYouMean, type RunComparison, type RunRecord } from "../protocol";
import { compareRecords } from "../history/compare";
import { parseRunId, readRunRecord } from "../history/read";

/** A run as exp.compare() takes it: `"mnist/3"`, a number of this experiment, or a run (or anything with an `id`). */
export type RunRef = string | number | { readonly id: string };

/** The record of the completed run whose last value of `metric` is lowest (`min`) or highest (`max`). */
export function bestOf(records: readonly RunRecord[], experiment: string, metric: string, mode: "min" | "max"): RunRecord | undefined {
  if (typeof metric !== "string" || metric === "") throw new LabnoteError("INVALID_VALUE", "Invalid metric for best()", `expected a metric name, got ${describe(metric)}`);
  if (mode !== "min" && mode !== "max") throw new LabnoteError("INVALID_VALUE", "Invalid mode for best()", `expected "min" or "max", got ${describe(mode)}`);
  const known = [...new Set(records.flatMap((r) => Object.keys(r.metrics)))];
  if (records.length > 0 && !known.includes(metric)) throw new LabnoteError("NOT_FOUND", `No run of experiment "${experiment}" logged "${metric}"`, didYouMean(metric, known, "metrics"));
  return bestRecord(records, metric, mode);
}

/** The records of the runs named, read from the store under `root`. */
function recordsOf(root: string, experiment: string, refs: readonly RunRef[]): RunRecord[] {
  return refs.map((ref) => {
    const text = typeof ref === "object" && ref !== null && typeof ref.id === "string" ? ref.id : ref;
    if (typeof text !== "string" && typeof text !== "number") throw new LabnoteError("INVALID_VALUE", "Invalid run for compare()", `expected "<experiment>/<number>", a number or a run, got ${describe(ref)}`);
    const m = typeof text === "string" ? /^(.+)\/(\d+)$/.exec(text) : null;
    const exp = m ? m[1] : experiment;
    const n = parseRunId(exp, text);
    const r = readRunRecord(root, exp, n);
    if (!r.ok) throw new LabnoteError("NOT_FOUND", `No run ${exp}/${n}`, `${r.file}: ${r.reason}`);
    return r.record;
  });
}

/** Runs compared: `{ runs, config, metrics, cells }`. */
export function compareOf(root: string, experiment: string, refs: readonly RunRef[]): RunComparison {
  if (refs.length < 2) throw new LabnoteError("INVALID_VALUE", "Cannot compare", `name two runs or more, e.g. exp.compare("${experiment}/1", "${experiment}/2"); got ${refs.length}`);
  return compareRecords(root, recordsOf(root, experiment, refs));
}
