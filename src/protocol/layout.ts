/**
 * Where things are in the store, as relative `/`-separated paths: the same for the library, the
 * command line and the browser (which reads the store through the Jupyter contents API).
 * ```
 * <root>/<experiment>/experiment.json
 * <root>/<experiment>/<number>/run.json, metrics.csv, histograms.jsonl, output.log, env.json, sources.json, artifacts/…, checkpoints/…
 * <root>/.blobs/<sha256[0:2]>/<sha256>   sources, cells and resources, stored once by content
 * ```
 */

/** The files of a run's folder. */
export const RUN_FILES = {
  record: "run.json",
  metrics: "metrics.csv",
  histograms: "histograms.jsonl",
  output: "output.log",
  env: "env.json",
  sources: "sources.json",
} as const;

/** An experiment's own file, beside its runs. */
export const EXPERIMENT_FILE = "experiment.json";

/** The folder of content-addressed blobs under the root. */
export const BLOBS_DIR = ".blobs";

/** A run folder's name is its number: 1, 2, … (no leading zeros). */
export function isRunFolder(name: string): boolean {
  return /^[1-9]\d*$/.test(name);
}

/** A blob's path relative to the root. */
export function blobPath(sha256: string): string {
  return `${BLOBS_DIR}/${sha256.slice(0, 2)}/${sha256}`;
}
