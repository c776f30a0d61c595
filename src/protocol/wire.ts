/**
 * The wire between the kernel and the browser: MIME names, versioned payloads, encode and
 * decode. Decoding never throws: malformed or newer input comes back as `{ ok: false, reason }`.
 */
import { isWireNumber, type WireNumber } from "./numbers";
import { RUN_STATUSES, type RunStatus } from "./status";
import type { RunHeading } from "./record";

/** The payload version this module writes; a reader refuses anything newer. */
export const PROTOCOL_VERSION = 1;

/** labnote's own MIME types, one per widget kind. */
export const MIME = {
  run: "application/vnd.labnote.run+json",
  progress: "application/vnd.labnote.progress+json",
  table: "application/vnd.labnote.table+json",
} as const;

export type MimeType = (typeof MIME)[keyof typeof MIME];

/** A metric series reduced to min/max buckets; the last point is always exact. */
export interface WireSeries {
  /** First step of each bucket. */
  step: number[];
  /** Smallest and largest finite value of each bucket ("NaN" when the bucket has no finite point). */
  min: WireNumber[];
  max: WireNumber[];
  /** NaN and ±Infinity points in each bucket; absent when there are none. */
  bad?: number[];
}

export interface WireMetric {
  name: string;
  count: number;
  lastStep: number;
  last: WireNumber;
  min: WireNumber;
  max: WireNumber;
  /** Points that were NaN, +Infinity and -Infinity: charts mark them, summaries count them. */
  nan?: number;
  posInf?: number;
  negInf?: number;
  series: WireSeries;
}

export interface WireConfigEntry {
  /** Dotted key, e.g. `optimizer.lr`. */
  key: string;
  /** JSON text of the value (already stringified, so a renderer never evaluates it). */
  value: string;
  /** Differs from the experiment's defaults. */
  modified: boolean;
  /** Not present in the defaults at all (often a typo). */
  added: boolean;
}

export interface WireArtifact {
  name: string;
  /** Path relative to the kernel's working directory (the notebook's folder). */
  path: string;
  size: number;
  /** What was saved: json, text, bytes, npy, csv, file, checkpoint, or a custom saver's format. */
  format: string;
  /** A MIME type guess for opening and previewing. */
  mediaType: string;
}

/** A run card's state, as the kernel sends it and the panel shows it. */
export interface RunPayload extends RunHeading {
  v: number;
  kind: "run";
  /** The run's last sign of life (ms since the epoch), for the died rule in readers. */
  heartbeat?: number;
  /** When this payload was made, so a reader can compute elapsed time. */
  sentAt: number;
  config: WireConfigEntry[];
  metrics: WireMetric[];
  artifacts: WireArtifact[];
  error?: { message: string; stack?: string };
  /** The run this one re-ran (same cell, same name), if any. */
  rerunOf?: string;
  /** Where the run came from: the notebook's file name and the execution count of the cell that started it (`spirals.ipynb [7]`). */
  origin?: string;
  /** Store root relative to the kernel's working directory. */
  root: string;
  /** The kernel's working directory as the kernel sees it (absolute). */
  cwd: string;
}

export interface ProgressPayload {
  v: number;
  kind: "progress";
  runId?: string;
  label: string;
  count: number;
  total?: number;
  /** Items per second. */
  rate: number;
  /** Seconds left, when a total is known. */
  eta?: number;
  startTime: number;
  sentAt: number;
  done: boolean;
}

export interface TablePayload {
  v: number;
  kind: "table";
  experiment: string;
  columns: string[];
  /** Cells are JSON values; numbers may be WireNumber strings. */
  rows: unknown[][];
}

export type Payload = RunPayload | ProgressPayload | TablePayload;

export type Decoded<P> = { ok: true; payload: P } | { ok: false; reason: string };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function checkVersion(data: Record<string, unknown>): string | undefined {
  if (typeof data.v !== "number") return "payload has no version";
  if (data.v > PROTOCOL_VERSION) return `payload version ${data.v} is newer than this reader (${PROTOCOL_VERSION}); update labnote`;
  if (data.v < 1) return `payload version ${data.v} is unknown`;
  return undefined;
}

function checkSeries(s: unknown): boolean {
  if (!isObject(s)) return false;
  const { step, min, max } = s;
  return (
    Array.isArray(step) &&
    Array.isArray(min) &&
    Array.isArray(max) &&
    step.length === min.length &&
    min.length === max.length &&
    (s.bad === undefined || (Array.isArray(s.bad) && s.bad.length === step.length && s.bad.every((x) => typeof x === "number"))) &&
    step.every((x) => typeof x === "number") &&
    min.every(isWireNumber) &&
    max.every(isWireNumber)
  );
}

function decodeRun(d: Record<string, unknown>): Decoded<RunPayload> {
  const strings = ["id", "experiment", "name", "root", "cwd"] as const;
  for (const k of strings) if (typeof d[k] !== "string") return { ok: false, reason: `run payload: "${k}" is not a string` };
  if (typeof d.number !== "number") return { ok: false, reason: 'run payload: "number" is not a number' };
  if (!RUN_STATUSES.includes(d.status as RunStatus)) return { ok: false, reason: `run payload: unknown status ${JSON.stringify(d.status)}` };
  if (typeof d.startTime !== "number" || typeof d.sentAt !== "number") return { ok: false, reason: "run payload: times are not numbers" };
  if (!Array.isArray(d.tags) || !d.tags.every((t) => typeof t === "string")) return { ok: false, reason: "run payload: tags are not strings" };
  if (!Array.isArray(d.config) || !d.config.every((e) => isObject(e) && typeof e.key === "string" && typeof e.value === "string"))
    return { ok: false, reason: "run payload: config entries are malformed" };
  if (
    !Array.isArray(d.metrics) ||
    !d.metrics.every(
      (m) => isObject(m) && typeof m.name === "string" && typeof m.count === "number" && isWireNumber(m.last) && checkSeries(m.series),
    )
  )
    return { ok: false, reason: "run payload: metrics are malformed" };
  if (
    !Array.isArray(d.artifacts) ||
    !d.artifacts.every((a) => isObject(a) && typeof a.name === "string" && typeof a.path === "string" && typeof a.size === "number")
  )
    return { ok: false, reason: "run payload: artifacts are malformed" };
  if (d.error !== undefined && !(isObject(d.error) && typeof d.error.message === "string"))
    return { ok: false, reason: "run payload: error is malformed" };
  if ((d.origin !== undefined && typeof d.origin !== "string") || (d.rerunOf !== undefined && typeof d.rerunOf !== "string"))
    return { ok: false, reason: "run payload: origin or rerunOf is not a string" };
  return { ok: true, payload: d as unknown as RunPayload };
}

function decodeProgress(d: Record<string, unknown>): Decoded<ProgressPayload> {
  if (typeof d.label !== "string") return { ok: false, reason: 'progress payload: "label" is not a string' };
  for (const k of ["count", "rate", "startTime", "sentAt"] as const)
    if (typeof d[k] !== "number") return { ok: false, reason: `progress payload: "${k}" is not a number` };
  if (d.total !== undefined && typeof d.total !== "number") return { ok: false, reason: 'progress payload: "total" is not a number' };
  if (typeof d.done !== "boolean") return { ok: false, reason: 'progress payload: "done" is not a boolean' };
  return { ok: true, payload: d as unknown as ProgressPayload };
}

function decodeTable(d: Record<string, unknown>): Decoded<TablePayload> {
  if (typeof d.experiment !== "string") return { ok: false, reason: 'table payload: "experiment" is not a string' };
  if (!Array.isArray(d.columns) || !d.columns.every((c) => typeof c === "string"))
    return { ok: false, reason: "table payload: columns are not strings" };
  const width = d.columns.length;
  if (!Array.isArray(d.rows) || !d.rows.every((r) => Array.isArray(r) && r.length === width))
    return { ok: false, reason: "table payload: rows do not match the columns" };
  return { ok: true, payload: d as unknown as TablePayload };
}

/**
 * Decode a payload received under `mime`; JSON sent as text (some clients do) is parsed, never
 * evaluated. Never throws.
 * @example
 * const d = decode(MIME.run, bundle[MIME.run]);
 * if (d.ok) render(d.payload); else showNote(d.reason);
 */
export function decode(mime: string, input: unknown): Decoded<Payload> {
  try {
    let data = input;
    if (typeof input === "string") {
      try {
        data = JSON.parse(input);
      } catch {
        return { ok: false, reason: "payload is text that is not JSON" };
      }
    }
    if (!isObject(data)) return { ok: false, reason: "payload is not an object" };
    const bad = checkVersion(data);
    if (bad) return { ok: false, reason: bad };
    switch (mime) {
      case MIME.run:
        return data.kind === "run" ? decodeRun(data) : { ok: false, reason: "payload kind does not match its MIME type" };
      case MIME.progress:
        return data.kind === "progress" ? decodeProgress(data) : { ok: false, reason: "payload kind does not match its MIME type" };
      case MIME.table:
        return data.kind === "table" ? decodeTable(data) : { ok: false, reason: "payload kind does not match its MIME type" };
      default:
        return { ok: false, reason: `unknown MIME type ${mime}` };
    }
  } catch (e) {
    return { ok: false, reason: `payload could not be read: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Encode a payload for a display bundle (a JSON-safe copy). */
export function encode<P extends Payload>(payload: P): P {
  return JSON.parse(JSON.stringify(payload)) as P;
}


