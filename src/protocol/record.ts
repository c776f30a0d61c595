/**
 * The run record (`run.json`): its shape, and the one parser every reader uses (the kernel's
 * history, the command line, the panel). A record that cannot be read is reported with the
 * reason, never dropped silently and never half-read.
 */
import type { RunStatus } from "./status";
import { fromWire } from "./numbers";
import { isPlainObject } from "./json";
import { parseLineage, type Lineage } from "./session";

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
  /** A person's notes on the run (from its annotations, see `annotations.ts`). */
  notes?: string;
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
  /** Where the run sits in its kernel session's log: its lineage is entries `[0, to)` (absent in records written before, or with lineage capture off). */
  lineage?: Lineage;
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

/** Fields the parser checks and leaves out when they are not valid. */
const CHECKED = new Set(["notes", "endTime", "duration", "lineage", "error"]);

const STATUSES: readonly string[] = ["running", "completed", "failed", "interrupted", "died"];

function strings(x: unknown): string[] {
  if (!Array.isArray(x)) return [];
  return x.every((s) => typeof s === "string") ? x : x.filter((s): s is string => typeof s === "string");
}

function objects<T>(x: unknown, ok: (o: Record<string, unknown>) => boolean): T[] {
  if (!Array.isArray(x)) return [];
  const good = (o: unknown) => isPlainObject(o) && ok(o);
  return (x.every(good) ? x : x.filter(good)) as T[];
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
  const rec = r as Record<string, unknown>;
  const metrics: Record<string, MetricSummary> = {};
  if (isPlainObject(rec.metrics)) {
    for (const name in rec.metrics) {
      const m = rec.metrics[name];
      if (!isPlainObject(m)) continue;
      const s: MetricSummary = { count: Number(m.count) || 0, lastStep: Number(m.lastStep) || 0, last: fromWire(m.last), min: fromWire(m.min), max: fromWire(m.max) };
      if (typeof m.nan === "number") s.nan = m.nan;
      if (typeof m.posInf === "number") s.posInf = m.posInf;
      if (typeof m.negInf === "number") s.negInf = m.negInf;
      metrics[name] = s;
    }
  }
  // A new object, its fields always in this order (every record read shares one shape, so a
  // table of 10,000 of them stays fast); the input is never changed but for its artifacts' defaults.
  const out: Record<string, unknown> = {
    format: 1,
    id: typeof rec.id === "string" ? rec.id : `${rec.experiment}/${rec.number}`,
    experiment: rec.experiment,
    number: rec.number,
    name: typeof rec.name === "string" ? rec.name : "",
    status: rec.status,
    tags: strings(rec.tags),
    startTime: rec.startTime,
    heartbeat: typeof rec.heartbeat === "number" ? rec.heartbeat : rec.startTime,
    pid: typeof rec.pid === "number" ? rec.pid : 0,
    hostname: typeof rec.hostname === "string" ? rec.hostname : "",
    config: isPlainObject(rec.config) ? rec.config : {},
    modified: strings(rec.modified),
    added: strings(rec.added),
    named: strings(rec.named),
    seed: typeof rec.seed === "number" ? rec.seed : 0,
    metrics,
    histograms: strings(rec.histograms),
    artifacts: objects<ArtifactRecord>(rec.artifacts, (a) => typeof a.name === "string" && typeof a.file === "string").map((a) => {
      if (typeof a.version !== "number") a.version = Number(a.version) || 0;
      if (typeof a.size !== "number") a.size = Number(a.size) || 0;
      if (typeof a.format !== "string") a.format = "file";
      if (typeof a.mediaType !== "string") a.mediaType = "application/octet-stream";
      return a;
    }),
    resources: objects<ResourceRecord>(rec.resources, (x) => typeof x.sha256 === "string"),
    cells: objects<CellRecord>(rec.cells, (c) => typeof c.sha256 === "string"),
    metadata: isPlainObject(rec.metadata) ? rec.metadata : {},
  };
  if (typeof rec.notes === "string") out.notes = rec.notes;
  if (typeof rec.endTime === "number") out.endTime = rec.endTime;
  if (typeof rec.duration === "number") out.duration = rec.duration;
  const lineage = parseLineage(rec.lineage);
  if (lineage) out.lineage = lineage;
  const err = rec.error;
  if (isPlainObject(err) && typeof err.message === "string")
    out.error = { name: typeof err.name === "string" ? err.name : "Error", message: err.message, ...(typeof err.stack === "string" ? { stack: err.stack } : {}) };
  // Fields this reader does not check (result, notebook, endedBy, …) come across as they are.
  for (const k in rec) if (!(k in out) && !CHECKED.has(k)) out[k] = rec[k];
  const record = out as unknown as RunRecord;
  return { ok: true, record };
}
