/** Runs compared from the store: their records and their code (through runCode), compared by the protocol's rules. */
import { compareRuns, type RunComparison, type RunRecord } from "../protocol";
import { runCode } from "./code";

/**
 * Compare runs read from the store under `root`: config diff, metrics side by side, and each
 * run's code against the first's.
 * @example compareRecords(root, [a, b]).cells[0].changes
 */
export function compareRecords(root: string, records: readonly RunRecord[]): RunComparison {
  return compareRuns(records.map((record) => ({ record, code: runCode(root, record) })));
}
