/**
 * Where things are in the store, as relative `/`-separated paths: the same for the library, the
 * command line and the browser (which reads the store through the Jupyter contents API).
 * ```
 * <root>/<experiment>/experiment.json
 * <root>/<experiment>/<number>/run.json, metrics.csv, histograms.jsonl, output.log, env.json, sources.json, artifacts/…, checkpoints/…
 * <root>/_labnote/blobs/<sha256[0:2]>/<sha256>   sources, cells and resources, stored once by content
 * <root>/_labnote/sessions/, snapshots/         session logs and notebook snapshots (protocol/session.ts)
 * <root>/_labnote/trash/<experiment>/<number>/  runs removed by `labnote rm`, restorable until `labnote gc`
 * ```
 * The store's own folders sit under one visible folder, `_labnote`, so that the browser can read
 * them through the contents API (which refuses hidden paths); no experiment may take that name.
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

/** The store's own folder under the root: blobs, session logs, snapshots, the trash. */
export const STORE_DIR = "_labnote";

/** The folder of content-addressed blobs under the root. */
export const BLOBS_DIR = `${STORE_DIR}/blobs`;

/** Runs removed with `labnote rm`, until `labnote gc` empties it: `<root>/_labnote/trash/<experiment>/<number>/`. */
export const TRASH_DIR = `${STORE_DIR}/trash`;

/** The folder of session logs under the root (format in protocol/session.ts). */
export const SESSIONS_DIR = `${STORE_DIR}/sessions`;

/** The folder of notebook snapshots under the root (format in protocol/session.ts). */
export const SNAPSHOTS_DIR = `${STORE_DIR}/snapshots`;

/**
 * Where stores written before the `_labnote` folder kept its parts (hidden folders the browser
 * cannot read), and where they live now. Writers move them on first use (`moveLegacyFolders`).
 */
export const LEGACY_FOLDERS: ReadonlyArray<readonly [string, string]> = [
  [".blobs", BLOBS_DIR],
  [".sessions", SESSIONS_DIR],
  [".snapshots", SNAPSHOTS_DIR],
  [".trash", TRASH_DIR],
];

/** True for a folder under the root that may be an experiment's: not hidden, not the store's own. */
export function isExperimentFolder(name: string): boolean {
  return !name.startsWith(".") && name !== STORE_DIR;
}

/** A run folder's name is its number: 1, 2, … (no leading zeros). */
export function isRunFolder(name: string): boolean {
  return /^[1-9]\d*$/.test(name);
}

/** A blob's path relative to the root. */
export function blobPath(sha256: string): string {
  return `${BLOBS_DIR}/${sha256.slice(0, 2)}/${sha256}`;
}

/**
 * A run's metrics, format 2: one folder, an index of names, and per metric an append-only file
 * of float64 little-endian triples (step, value, time) plus a small summary for charts.
 * ```
 * metrics/index.json     {"format": 2, "metrics": [{"id": 0, "name": "loss"}, …]}
 * metrics/0.f64          step,value,time,step,value,time,…   (NumPy: np.fromfile(f, "<f8").reshape(-1, 3))
 * metrics/0.json         the summary: count, last, min, max and at most 256 min/max buckets
 * ```
 * Runs written before format 2 have `metrics.csv` only; finished runs of format 2 get a
 * `metrics.csv` too, written after the run ended.
 */
export const METRICS_DIR = "metrics";

/** The files of metric `id` and the index, relative to the run's folder. */
export const metricFiles = {
  index: `${METRICS_DIR}/index.json`,
  column: (id: number): string => `${METRICS_DIR}/${id}.f64`,
  summary: (id: number): string => `${METRICS_DIR}/${id}.json`,
} as const;
