/**
 * The dashboard's runs table as pure functions of the runs: every column (config keys, each
 * metric's last/min/max), the column chooser's order (keys that vary first), sorting and
 * grouping. Unit-tested; the widget only renders what these return.
 */
import { formatNumber, isSystemMetric, sweepOfTags, sweepTag, type MetricSummary } from "../protocol";
import type { HistoryRun } from "../model/store";
import { baseColumns, configColumn, configKeyStats, configKeys, metricTitle, visibleRuns, type Column } from "../views/columns";
import { configText } from "../views/dom";

/** A dashboard run: a history run and the experiment it belongs to. */
export type DashboardRun = HistoryRun;

/** A column the chooser lists, and whether it is shown. */
export interface ColumnChoice {
  column: Column;
  /** "run", "config", "metric" or "system" (the process's own samples): the chooser groups them. */
  group: "run" | "config" | "metric" | "system";
  /** Config keys whose values differ between the runs come first and are shown by default. */
  varies: boolean;
  shown: boolean;
}

const STATS = ["last", "min", "max"] as const;
type Stat = (typeof STATS)[number];

function metricColumn(name: string, stat: Stat): Column {
  return {
    id: `metric:${name}.${stat}`,
    label: `${name}.${stat}`,
    kind: "num",
    title: `metric ${name}: ${stat}`,
    value: (r) => r.record.metrics[name]?.[stat],
    text: (r) => {
      const s: MetricSummary | undefined = r.record.metrics[name];
      return s ? formatNumber(s[stat]) : "";
    },
    cls: "jp-labnote-num jp-labnote-metric-col",
  };
}

/** The run columns of the dashboard: the History's, plus experiment and tags. */
function runColumns(): Column[] {
  return [
    { id: "id", label: "id", kind: "text", title: "<experiment>/<number>", value: (r) => r.id, text: (r) => r.id, cls: "jp-labnote-id" },
    ...baseColumns().filter((c) => c.id !== "number"),
    { id: "experiment", label: "experiment", kind: "text", value: (r) => r.record.experiment, text: (r) => r.record.experiment },
    { id: "tags", label: "tags", kind: "text", title: "tags (click to edit)", value: (r) => r.record.tags.join(", "), text: (r) => r.record.tags.join(", "), cls: "jp-labnote-editable" },
    { id: "notes", label: "notes", kind: "text", title: "notes (click to edit)", value: (r) => r.record.notes ?? "", text: (r) => firstLine(r.record.notes), cls: "jp-labnote-editable jp-labnote-notes-col" },
  ];
}

/** The first line of notes, cut to fit a cell (the editor shows them whole). */
function firstLine(notes: string | undefined): string {
  if (!notes) return "";
  const line = notes.split("\n", 1)[0];
  return line.length > 80 || line.length < notes.length ? `${line.slice(0, 80)}…` : line;
}

/**
 * Every column the chooser offers for these runs, in its order: run fields, then config keys
 * (those that vary first), then each metric's last, min and max. Shown by default: the run
 * fields, the varying config keys (else the modified ones), and each metric's last value.
 */
export function columnChoices(runs: readonly DashboardRun[]): ColumnChoice[] {
  const stats = configKeyStats(runs);
  const shownKeys = new Set(configKeys(runs, stats));
  const varying = new Set([...stats].filter(([, s]) => s.varies).map(([k]) => k));
  const keys = [...stats.keys()].sort((a, b) => Number(varying.has(b)) - Number(varying.has(a)) || a.localeCompare(b));
  const metrics = metricNames(runs);
  const run = runColumns().map<ColumnChoice>((column) => ({ column, group: "run", varies: false, shown: column.id !== "experiment" }));
  const config = keys.map<ColumnChoice>((k) => ({
    column: configColumn(k),
    group: "config",
    varies: varying.has(k),
    shown: shownKeys.has(k),
  }));
  const metric = metrics.filter((m) => !isSystemMetric(m)).flatMap((m) => STATS.map<ColumnChoice>((stat) => ({ column: metricColumn(m, stat), group: "metric", varies: false, shown: stat === "last" })));
  // System samples come last and hidden, all but the peak memory (what a person asks of them first).
  const system = metrics.filter(isSystemMetric).flatMap((m) => STATS.map<ColumnChoice>((stat) => ({ column: metricColumn(m, stat), group: "system", varies: false, shown: m === "system/rss_mb" && stat === "max" })));
  return [...run, ...config, ...metric, ...system];
}

/** Every metric name of these runs, sorted (one pass, no array per run). */
export function metricNames(runs: readonly DashboardRun[]): string[] {
  const names = new Set<string>();
  for (const r of runs) for (const m in r.record.metrics) names.add(m);
  return [...names].sort();
}

/** The tooltip of a metric cell. */
export function metricCellTitle(r: HistoryRun, columnId: string): string | undefined {
  const m = /^metric:(.*)\.(last|min|max)$/.exec(columnId);
  if (!m) return undefined;
  const s = r.record.metrics[m[1]];
  return s ? metricTitle(s) : undefined;
}

/** Filter and sort, as the History does (the same query language). */
export function dashboardRows(runs: readonly DashboardRun[], columns: readonly Column[], filter: string, sort: { id: string; desc: boolean }): DashboardRun[] {
  return visibleRuns(runs, columns, filter, sort);
}

/** What runs can be grouped by: a config key, a tag, or the sweep a run is a trial of. */
export type GroupBy = { kind: "config"; key: string } | { kind: "tag" } | { kind: "sweep" } | undefined;

/** The group of runs that are no sweep's trials. */
export const NO_SWEEP = "(not in a sweep)";

/** One group of runs: its label, its runs (in table order), and the best value of the chosen metric. */
export interface RunGroup {
  label: string;
  runs: DashboardRun[];
  /** The best last value of `metric` among the group's runs, and which run has it. */
  best?: { value: number; run: string };
}

/**
 * Group rows (already filtered and sorted) by a config key's value, by tag (a run with two
 * tags is in both groups; one with none in "(no tag)") or by sweep (its `sweep-<n>` tag; the
 * rest in {@link NO_SWEEP}), with the best last value of `metric`
 * (lowest for `goal: "min"`), groups in the order their first run appears.
 */
export function groupRuns(rows: readonly DashboardRun[], by: Exclude<GroupBy, undefined>, metric?: string, goal: "min" | "max" = "min"): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  const add = (label: string, r: DashboardRun) => {
    let g = groups.get(label);
    if (!g) groups.set(label, (g = { label, runs: [] }));
    g.runs.push(r);
    const v = metric === undefined ? undefined : r.record.metrics[metric]?.last;
    if (typeof v === "number" && Number.isFinite(v) && (g.best === undefined || (goal === "min" ? v < g.best.value : v > g.best.value))) g.best = { value: v, run: r.id };
  };
  for (const r of rows) {
    if (by.kind === "tag") {
      if (r.record.tags.length === 0) add("(no tag)", r);
      for (const t of r.record.tags) add(`tag:${t}`, r);
    } else if (by.kind === "sweep") {
      const n = sweepOfTags(r.record.tags);
      add(n === undefined ? NO_SWEEP : sweepTag(n), r);
    } else {
      const v = r.config.get(by.key);
      add(v === undefined ? `${by.key} (not set)` : `${by.key}=${configText(v)}`, r);
    }
  }
  return [...groups.values()];
}

/**
 * The selection after a click on row `index`'s box: a plain click toggles it; a shift-click sets
 * every row from the last clicked one to this one as this one now is.
 */
export function clickSelect(selected: ReadonlySet<string>, rows: readonly { id: string }[], index: number, anchor: number | undefined, shift: boolean): Set<string> {
  const out = new Set(selected);
  const id = rows[index]?.id;
  if (id === undefined) return out;
  const on = !selected.has(id);
  if (shift && anchor !== undefined && anchor >= 0 && anchor < rows.length) {
    const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
    for (let i = a; i <= b; i++) {
      if (on) out.add(rows[i].id);
      else out.delete(rows[i].id);
    }
  } else if (on) out.add(id);
  else out.delete(id);
  return out;
}
