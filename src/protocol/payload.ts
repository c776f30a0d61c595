/**
 * A run's display payload, built in one place from its record: the kernel's live card and the
 * panel's view of a run read from disk show the same config (modified and added keys by one
 * rule), the same metric summaries and the same artifacts.
 */
import { flattenConfig, recordJson } from "./json";
import { toWire } from "./numbers";
import type { RunRecord } from "./record";
import { originLabel } from "./session";
import { userMetricsFirst } from "./system";
import { PROTOCOL_VERSION, type RunPayload, type WireConfigEntry, type WireMetric, type WireSeries } from "./wire";

/** At most this many metrics, config entries and artifacts travel in one payload. */
export const PAYLOAD_LIMITS = { metrics: 24, config: 120, artifacts: 50, value: 200, message: 2000, stack: 4000 } as const;

/** What the builder needs beside the record. */
export interface PayloadSource {
  /** The record, its status as the reader shows it (see `effectiveStatus`). */
  record: RunRecord;
  /** A metric's series reduced to at most `buckets` buckets, the last point exact. */
  series(name: string, buckets: number): WireSeries;
  /** The run's folder relative to the viewer's working directory, `/`-separated; "" for a run that writes nothing. */
  runDir: string;
  /** The store root relative to the viewer's working directory; "" for a run that writes nothing. */
  root: string;
  /** The viewer's working directory (the kernel's, or the notebook's folder in the browser). */
  cwd: string;
  /** When the payload is made (ms since the epoch). */
  sentAt: number;
}

/** A config value as record JSON: plain numbers, strings and booleans directly (a table reads 10,000 configs at once), anything else through {@link recordJson}. */
function valueJson(v: unknown): string {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean" || v === null) return String(v);
  return recordJson(v) ?? "undefined";
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/**
 * The config as entries for a card: dotted keys, values as JSON text, `modified` for keys whose
 * value differs from the defaults (a key under a modified object counts), `added` for keys the
 * defaults lack (added, not modified). Modified and added keys come first.
 */
export function configEntries(record: Pick<RunRecord, "config" | "modified" | "added">): WireConfigEntry[] {
  const modified = new Set(record.modified);
  const added = new Set(record.added);
  const under = (set: Set<string>, key: string): boolean => {
    if (set.has(key)) return true;
    for (let i = key.indexOf("."); i >= 0; i = key.indexOf(".", i + 1)) if (set.has(key.slice(0, i))) return true;
    return false;
  };
  const entries = Object.entries(flattenConfig(record.config)).map(([key, v]) => {
    const isAdded = under(added, key);
    return { key, value: truncate(valueJson(v), PAYLOAD_LIMITS.value), modified: !isAdded && under(modified, key), added: isAdded };
  });
  const rank = (e: WireConfigEntry) => (e.modified ? 0 : e.added ? 1 : 2);
  return entries.sort((a, b) => rank(a) - rank(b));
}

/**
 * The run card's payload, each metric reduced to `buckets` min/max buckets.
 * @example const p = runPayload({ record, series: (m, b) => downsample(...), runDir, root, cwd, sentAt: Date.now() }, 200);
 */
export function runPayload(src: PayloadSource, buckets: number): RunPayload {
  const rec = src.record;
  const metrics: WireMetric[] = [];
  // The user's metrics first: the process's own samples (system/…) follow, and are the first left out.
  for (const name of userMetricsFirst(Object.keys(rec.metrics)).slice(0, PAYLOAD_LIMITS.metrics)) {
    const s = rec.metrics[name];
    const m: WireMetric = { name, count: s.count, lastStep: s.lastStep, last: toWire(s.last), min: toWire(s.min), max: toWire(s.max), series: src.series(name, buckets) };
    if (s.nan) m.nan = s.nan;
    if (s.posInf) m.posInf = s.posInf;
    if (s.negInf) m.negInf = s.negInf;
    metrics.push(m);
  }
  const join = (dir: string, file: string) => (dir && dir !== "." ? `${dir.replace(/\/+$/, "")}/${file}` : file);
  const payload: RunPayload = {
    v: PROTOCOL_VERSION,
    kind: "run",
    id: rec.id,
    experiment: rec.experiment,
    number: rec.number,
    name: rec.name,
    status: rec.status,
    tags: [...rec.tags],
    startTime: rec.startTime,
    heartbeat: rec.heartbeat,
    sentAt: src.sentAt,
    config: configEntries(rec).slice(0, PAYLOAD_LIMITS.config),
    metrics,
    artifacts: rec.artifacts.slice(-PAYLOAD_LIMITS.artifacts).map((a) => ({
      name: a.version ? `${a.name}_${a.version}` : a.name,
      path: join(src.runDir, a.file),
      size: a.size,
      format: a.format,
      mediaType: a.mediaType,
    })),
    root: src.root,
    cwd: src.cwd,
  };
  if (rec.endTime !== undefined) payload.endTime = rec.endTime;
  if (rec.error) payload.error = { message: truncate(rec.error.message, PAYLOAD_LIMITS.message), ...(rec.error.stack ? { stack: truncate(rec.error.stack, PAYLOAD_LIMITS.stack) } : {}) };
  if (rec.rerunOf) payload.rerunOf = rec.rerunOf;
  const origin = originLabel(rec);
  if (origin) payload.origin = origin;
  return payload;
}

/**
 * Where a run came from, as one line for cards and history rows: `spirals.ipynb [7] · re-run of
 * spirals/3`; "" when nothing is known.
 * @example provenanceText({ origin: originLabel(record), rerunOf: record.rerunOf })
 */
export function provenanceText(x: { origin?: string; rerunOf?: string }): string {
  return [x.origin, x.rerunOf ? `re-run of ${x.rerunOf}` : undefined].filter(Boolean).join(" · ");
}

/** How a metric's NaN and infinite points read in a summary: `2 NaN · 1 ∞`, or "" when there are none. */
export function nonFiniteText(m: { nan?: number; posInf?: number; negInf?: number }): string {
  const parts: string[] = [];
  if (m.nan) parts.push(`${m.nan} NaN`);
  if (m.posInf) parts.push(`${m.posInf} ∞`);
  if (m.negInf) parts.push(`${m.negInf} -∞`);
  return parts.join(" · ");
}
