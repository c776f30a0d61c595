/**
 * The History table's columns, and how runs are filtered and sorted by them: pure functions of
 * the runs, so a thousand runs sort in a few milliseconds and the rules are unit-tested.
 */
import { QuerySyntaxError, userMetricsFirst, formatDuration, formatNumber, matchRecord, nonFiniteText, originLabel, parseQuery, provenanceText, type MetricSummary, type Query } from "../protocol";
import type { HistoryRun } from "../model/store";
import { configText, formatTime } from "./dom";

/** Whether a column sorts as numbers or as text. */
export type ColumnKind = "num" | "text";

/** One History column. */
export interface Column {
  id: string;
  label: string;
  kind: ColumnKind;
  title?: string;
  /** The sort key of a run. */
  value(r: HistoryRun): number | string | undefined;
  /** The text shown. */
  text(r: HistoryRun): string;
  cls?: string;
}

const STATUS_ORDER: Record<string, number> = { running: 0, died: 1, failed: 2, interrupted: 3, completed: 4 };

/** The columns every experiment has. */
export function baseColumns(): Column[] {
  return [
    { id: "number", label: "#", kind: "num", value: (r) => r.record.number, text: (r) => String(r.record.number), cls: "jp-labnote-num" },
    { id: "name", label: "name", kind: "text", value: (r) => r.record.name, text: (r) => r.record.name },
    { id: "status", label: "status", kind: "text", value: (r) => STATUS_ORDER[r.record.status] ?? 9, text: (r) => r.record.status },
    { id: "start", label: "started", kind: "num", value: (r) => r.record.startTime, text: (r) => formatTime(r.record.startTime) },
    { id: "duration", label: "duration", kind: "num", value: (r) => r.record.duration, text: (r) => formatDuration(r.record.duration), cls: "jp-labnote-num" },
    { id: "from", label: "from", kind: "text", title: "Where the run came from: notebook [cell execution count], and the run it re-ran", value: (r) => fromText(r), text: (r) => fromText(r), cls: "jp-labnote-from-col" },
  ];
}

/** A history row's "from": notebook and cell, and the run it re-ran. */
export function fromText(r: HistoryRun): string {
  return provenanceText({ origin: originLabel(r.record), rerunOf: r.record.rerunOf });
}

/** A config value's sort key: numbers and strings as themselves, anything else as its JSON text. */
export function configSortKey(json: string | undefined): number | string | undefined {
  if (json === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === "number" || typeof v === "string" ? v : json;
  } catch {
    return json;
  }
}

/** Config keys worth a column: those that differ between runs, else the modified ones, else all (at most 12). */
export function configKeys(runs: readonly HistoryRun[], stats = configKeyStats(runs)): string[] {
  const varying = [...stats].filter(([, s]) => s.varies).map(([k]) => k);
  if (varying.length) return varying.slice(0, 12);
  const modified = [...new Set(runs.flatMap((r) => r.record.modified))];
  if (modified.length) return modified.slice(0, 12);
  return [...stats.keys()].slice(0, 12);
}

/** One config key across runs: how many runs have it, and whether its value differs between them (a key some runs lack differs). */
export interface ConfigKeyStat {
  count: number;
  varies: boolean;
}

/** Every config key of these runs, in the order they first appear, with its {@link ConfigKeyStat} (one pass: a table has 10,000 runs). */
export function configKeyStats(runs: readonly HistoryRun[]): Map<string, ConfigKeyStat> {
  const stats = new Map<string, ConfigKeyStat & { first: string }>();
  for (const r of runs)
    for (const [k, v] of r.config) {
      const s = stats.get(k);
      if (!s) stats.set(k, { count: 1, varies: false, first: v });
      else {
        s.count++;
        if (!s.varies && v !== s.first) s.varies = true;
      }
    }
  for (const s of stats.values()) if (s.count < runs.length) s.varies = true;
  return stats;
}

/** A metric summary's tooltip: last, range, points, and NaN/∞ points when there are any. */
export function metricTitle(s: MetricSummary): string {
  return [`last ${formatNumber(s.last)}`, `min ${formatNumber(s.min)}`, `max ${formatNumber(s.max)}`, `${s.count} points`, nonFiniteText(s)].filter(Boolean).join(" · ");
}

/** The column of config key `key` (dotted), sorted by its value. */
export function configColumn(key: string): Column {
  return {
    id: `config:${key}`,
    label: key,
    title: `config ${key}`,
    kind: "text",
    value: (r) => configSortKey(r.config.get(key)),
    text: (r) => {
      const v = r.config.get(key);
      return v === undefined ? "" : configText(v);
    },
    cls: "jp-labnote-config-col",
  };
}

/** Every column for these runs: the base ones, the config keys worth showing, and one per metric (its last value). */
export function columnsFor(runs: readonly HistoryRun[]): Column[] {
  // The user's metrics first, the process's own samples (system/…) after them.
  const metricNames = userMetricsFirst([...new Set(runs.flatMap((r) => Object.keys(r.record.metrics)))]);
  // Tags and notes (the run's own and those added in the dashboard), when any run has them.
  const extra: Column[] = [];
  if (runs.some((r) => r.record.tags.length)) extra.push({ id: "tags", label: "tags", kind: "text", value: (r) => r.record.tags.join(", "), text: (r) => r.record.tags.join(", ") });
  if (runs.some((r) => r.record.notes)) extra.push({ id: "notes", label: "notes", kind: "text", title: "notes (edited in the dashboard)", value: (r) => r.record.notes ?? "", text: (r) => (r.record.notes ?? "").split("\n", 1)[0], cls: "jp-labnote-notes-col" });
  return [
    ...baseColumns(),
    ...extra,
    ...configKeys(runs).map(configColumn),
    ...metricNames.map<Column>((m) => ({
      id: `metric:${m}`,
      label: m,
      title: `metric ${m}: last value (min … max in the tooltip)`,
      kind: "num",
      value: (r) => r.record.metrics[m]?.last,
      text: (r) => {
        const s = r.record.metrics[m];
        return s ? formatNumber(s.last) : "";
      },
      cls: "jp-labnote-num jp-labnote-metric-col",
    })),
  ];
}

/** A filter as typed: its parsed query, or the syntax error to show under the box; empty text filters nothing. */
export function parseFilter(text: string): { query?: Query; error?: QuerySyntaxError } {
  if (text.trim() === "") return {};
  try {
    return { query: parseQuery(text) };
  } catch (e) {
    if (e instanceof QuerySyntaxError) return { error: e };
    throw e;
  }
}

/**
 * The runs that match `filter` (the query language of `labnote ls --filter`: `lr<0.01
 * status=completed tag:v1 name~adam`), sorted by `sort`. A filter that does not parse filters
 * nothing (the box shows the error).
 */
/** Text columns sort as people count ("run 2" before "run 10"); one collator (a call of localeCompare with options builds one each time). */
const TEXT_ORDER = new Intl.Collator(undefined, { numeric: true });

export function visibleRuns(
  runs: readonly HistoryRun[],
  columns: readonly Column[],
  filter: string | Query | undefined,
  sort: { id: string; desc: boolean },
): HistoryRun[] {
  const query = typeof filter === "string" ? parseFilter(filter).query : filter;
  let out = [...runs];
  if (query && query.terms.length) out = out.filter((r) => matchRecord(query, r.record));
  const col = columns.find((c) => c.id === sort.id);
  if (!col) return out;
  const dir = sort.desc ? -1 : 1;
  const missing = (k: unknown) => k === undefined || (typeof k === "number" && Number.isNaN(k));
  const keyed = out.map((r) => ({ r, k: col.value(r) }));
  keyed.sort((a, b) => {
    // Runs without a value (or NaN) go last whichever way the column sorts.
    if (missing(a.k)) return missing(b.k) ? 0 : 1;
    if (missing(b.k)) return -1;
    if (typeof a.k === "number" && typeof b.k === "number") return (a.k - b.k) * dir;
    return TEXT_ORDER.compare(String(a.k), String(b.k)) * dir;
  });
  return keyed.map((x) => x.r);
}

/** Config keys whose values differ between runs (a key some runs lack differs), and how many are the same. */
export function configDiff(runs: readonly HistoryRun[], stats = configKeyStats(runs)): { differing: string[]; same: number } {
  const keys = [...stats.keys()].sort();
  const differing = keys.filter((k) => stats.get(k)!.varies);
  return { differing, same: keys.length - differing.length };
}
