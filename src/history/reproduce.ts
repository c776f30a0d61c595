/**
 * A run's reproduction read from the store under a root (pure reading): the builders are the
 * protocol's (`protocol/reproduce.ts`), shared with the panel's Open as notebook.
 */
import { notebookOf, reproductionOf, scriptOf, type NotebookJson, type Reproduction, type RunRecord } from "../protocol";
import { runCode } from "./code";
import { listExperiments, readHistory } from "./read";
import { readSessionLog } from "./session";

export type { NotebookCellJson, NotebookJson, RemadeRun, Reproduction } from "../protocol";

/** Every record of the store under `root`, lazily, experiment by experiment. */
function* storeRecords(root: string): Generator<RunRecord> {
  for (const experiment of listExperiments(root)) for (const r of readHistory(root, experiment, () => {})) yield r;
}

/**
 * What the reproduction of `record` holds, read from the store under `root`.
 * @example
 * const r = reproduction(root, record); r.remade.map((x) => x.id);
 */
export function reproduction(root: string, record: RunRecord): Reproduction {
  const entries = record.lineage ? (readSessionLog(root, record.lineage.session)?.entries ?? []) : [];
  return reproductionOf(record, runCode(root, record), entries, record.lineage ? storeRecords(root) : []);
}

/**
 * A notebook (nbformat 4, tslab kernel) that reproduces the run (see `notebookOf`).
 * @example
 * fs.writeFileSync("repro.ipynb", JSON.stringify(reproductionNotebook(root, record), null, 1));
 */
export function reproductionNotebook(root: string, record: RunRecord): NotebookJson {
  return notebookOf(reproduction(root, record));
}

/**
 * The reproduction as one TypeScript file (see `scriptOf`).
 * @example
 * fs.writeFileSync("repro.ts", reproductionScript(root, record));
 */
export function reproductionScript(root: string, record: RunRecord): string {
  return scriptOf(reproduction(root, record));
}
