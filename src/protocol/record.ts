/**
 * The run record (`run.json`): its shape, and the one parser every reader uses (the kernel's
 * history, the command line, the panel). A record that cannot be read is reported with the
 * reason, never dropped silently and never half-read.
 */
import type { RunStatus } from "./status";
import { fromWire } from "./numbers";
import { isPlainObject } from "./json";

/** The record format this version writes; a reader refuses anything newer. */
export const RECORD_FORMAT = 1;

/** A metric's summary as the record keeps it. */
export interface MetricSummary {
  count: number;
  lastStep: number;
  last: number;
  /** The smallest and largest finite-or-infinite value; NaN points are left out (NaN when there are only NaNs). */
  min: number;
  max: number;
  /** Points that were NaN, +Infinity and -Infinity (absent in records written before they were counted). */
  nan?: number;
  posInf?: number;
  negInf?: number;
}

/** A saved artifact, checkpoint or added file. */
export interface ArtifactRecord {
  /** The name it was saved under (without version suffix or extension). */
  name: string;
  /** 0 for the first save under a name, 1 for `name_1`, … */
  version: number;
  /** Path relative to the run's folder. */
  file: string;
  format: string;
  /** The JavaScript type saved, so load() can give the same type back. */
  type: string;
  mediaType: string;
  size: number;
  sha256: string;
  time: number;
  kind: "artifact" | "checkpoint";
  shape?: number[];
  /** Where an added file came from. */
  source?: string;
  metadata?: Record<string, unknown>;
}

/** A file the run read, stored once by content hash under the store's blobs. */
export interface ResourceRecord {
  path: string;
  sha256: string;
  size: number;
  time: number;
}

/** A notebook cell executed while the run was open. */
export interface CellRecord {
  executionCount: number;
  sha256: string;
  startTime: number;
  endTime?: number;
  ok?: boolean;
  error?: string;
  notebook?: string;
}

/** What names a run and says where it stands: shared by the record and the wire. */
export interface RunHeading {
  /** `<experiment>/<number>` */
  id: string;
  experiment: string;
  number: number;
  name: string;
  status: RunStatus;
  tags: string[];
  startTime: number;
  endTime?: number;
}

/** Everything known about a run, as stored in `run.json`. Non-finite numbers are strings there. */
export interface RunRecord extends RunHeading {
  format: 1;
  /** Milliseconds. */
  duration?: number;
  heartbeat: number;
  pid: number;
  hostname: string;
  config: Record<string, unknown>;
  modified: string[];
  added: string[];
  named: string[];
  seed: number;
  metrics: Record<string, MetricSummary>;
  histograms: string[];
  artifacts: ArtifactRecord[];
  resources: ResourceRecord[];
  cells: CellRecord[];
  metadata: Record<string, unknown>;
  result?: unknown;
  error?: { name: string; message: string; stack?: string };
  rerunOf?: string;
  notebook?: string;
  /** What ended the run: its own end(), the callback returning, a cell ending, a signal or the process exiting. */
  endedBy?: "end" | "callback" | "cell" | "span" | "signal" | "exit" | "shutdown";
}

/** One histogram of a metric at one step, as a line of `histograms.jsonl`. */
export interface Histogram {
  name: string;
  step: number;
  time: number;
  /** Bucket edges, `counts.length + 1` of them. */
  edges: number[];
  counts: number[];
  /** Values that were NaN or ±Infinity, counted apart. */
  nan: number;
  posInf: number;
  negInf: number;
  count: number;
}

/** A parsed record, or why it could not be read. */
export type ParsedRecord = { ok: true; record: RunRecord } | { ok: false; reason: string };

const STATUSES: readonly string[] = ["running", "completed", "failed", "interrupted", "died"];

function strings(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === "string") : [];
}

function objects<T>(x: unknown, ok: (o: Record<string, unknown>) => boolean): T[] {
  return Array.isArray(x) ? (x.filter((o) => isPlainObject(o) && ok(o)) as T[]) : [];
}

/**
 * Read a `run.json` (its text, or the value parsed from it) into a record, numbers decoded.
 * Never throws: a truncated, invalid or newer record comes back as `{ ok: false, reason }`.
 * @example
 * const r = parseRunRecord(text);
 * if (r.ok) show(r.record); else warn(`run 3 is unreadable: ${r.reason}`);
 */
export function parseRunRecord(input: unknown): ParsedRecord {
  let r: unknown = input;
  if (typeof input === "string") {
    if (input.trim() === "") return { ok: false, reason: "run.json is empty (the run's process may have been killed while writing it)" };
    try {
      r = JSON.parse(input);
    } catch (e) {
      return { ok: false, reason: `run.json is not valid JSON (${e instanceof Error ? e.message : String(e)}); it may be truncated` };
    }
  }
  if (!isPlainObject(r)) return { ok: false, reason: "run.json does not hold an object" };
  if (typeof r.format === "number" && r.format > RECORD_FORMAT)
    return { ok: false, reason: `run.json has format ${r.format}, newer than this labnote reads (${RECORD_FORMAT}); update labnote` };
  if (typeof r.experiment !== "string" || r.experiment === "") return { ok: false, reason: 'run.json has no "experiment" name' };
  if (typeof r.number !== "number" || !Number.isInteger(r.number) || r.number < 1) return { ok: false, reason: 'run.json has no run "number"' };
  if (typeof r.status !== "string" || !STATUSES.includes(r.status)) return { ok: false, reason: `run.json has an unknown status ${JSON.stringify(r.status)}` };
  if (typeof r.startTime !== "number") return { ok: false, reason: 'run.json has no "startTime"' };
  const metrics: Record<string, MetricSummary> = {};
  if (isPlainObject(r.metrics)) {
    for (const [name, m] of Object.entries(r.metrics)) {
      if (!isPlainObject(m)) continue;
      const s: MetricSummary = { count: Number(m.count) || 0, lastStep: Number(m.lastStep) || 0, last: fromWire(m.last), min: fromWire(m.min), max: fromWire(m.max) };
      for (const k of ["nan", "posInf", "negInf"] as const) if (typeof m[k] === "number") s[k] = m[k] as number;
      metrics[name] = s;
    }
  }
  const err = r.error;
  const record: RunRecord = {
    ...(r as unknown as RunRecord),
    format: 1,
    id: typeof r.id === "string" ? r.id : `${r.experiment}/${r.number}`,
    name: typeof r.name === "string" ? r.name : "",
    status: r.status as RunStatus,
    tags: strings(r.tags),
    heartbeat: typeof r.heartbeat === "number" ? r.heartbeat : r.startTime,
    pid: typeof r.pid === "number" ? r.pid : 0,
    hostname: typeof r.hostname === "string" ? r.hostname : "",
    config: isPlainObject(r.config) ? r.config : {},
    modified: strings(r.modified),
    added: strings(r.added),
    named: strings(r.named),
    seed: typeof r.seed === "number" ? r.seed : 0,
    metrics,
    histograms: strings(r.histograms),
    artifacts: objects<ArtifactRecord>(r.artifacts, (a) => typeof a.name === "string" && typeof a.file === "string").map((a) => ({
      ...a,
      version: Number(a.version) || 0,
      size: Number(a.size) || 0,
      format: typeof a.format === "string" ? a.format : "file",
      mediaType: typeof a.mediaType === "string" ? a.mediaType : "application/octet-stream",
    })),
    resources: objects<ResourceRecord>(r.resources, (x) => typeof x.sha256 === "string"),
    cells: objects<CellRecord>(r.cells, (c) => typeof c.sha256 === "string"),
    metadata: isPlainObject(r.metadata) ? r.metadata : {},
  };
  if (typeof r.endTime !== "number") delete record.endTime;
  if (typeof r.duration !== "number") delete record.duration;
  if (isPlainObject(err) && typeof err.message === "string")
    record.error = { name: typeof err.name === "string" ? err.name : "Error", message: err.message, ...(typeof err.stack === "string" ? { stack: err.stack } : {}) };
  else delete record.error;
  return { ok: true, record };
}
