import * as aq from "arquero";
import { flatten } from "../config/resolve";
import type { RunRecord } from "../run/types";

/** The rows of a runs table as plain columns: id, status, times, config columns, metric summaries. */
export function runsColumns(records: readonly RunRecord[]): Record<string, unknown[]> {
  const n = records.length;
  const cols: Record<string, unknown[]> = {
    id: [],
    number: [],
    name: [],
    status: [],
    tags: [],
    startTime: [],
    endTime: [],
    duration: [],
  };
  const extra = new Map<string, unknown[]>();
  const column = (key: string): unknown[] => {
    let c = extra.get(key);
    if (!c) extra.set(key, (c = new Array(n).fill(undefined)));
    return c;
  };
  records.forEach((r, i) => {
    cols.id.push(r.id);
    cols.number.push(r.number);
    cols.name.push(r.name);
    cols.status.push(r.status);
    cols.tags.push((r.tags ?? []).join(","));
    cols.startTime.push(new Date(r.startTime));
    cols.endTime.push(r.endTime === undefined ? undefined : new Date(r.endTime));
    cols.duration.push(r.duration === undefined ? undefined : r.duration / 1000);
    for (const [k, v] of Object.entries(flatten(r.config ?? {}))) column(`config.${k}`)[i] = Array.isArray(v) || (typeof v === "object" && v !== null) ? JSON.stringify(v) : v;
    for (const [m, s] of Object.entries(r.metrics ?? {})) {
      column(`${m}.last`)[i] = s.last;
      column(`${m}.min`)[i] = s.min;
      column(`${m}.max`)[i] = s.max;
    }
  });
  const keys = [...extra.keys()];
  const cfg = keys.filter((k) => k.startsWith("config.")).sort();
  const met = keys.filter((k) => !k.startsWith("config."));
  for (const k of [...cfg, ...met]) cols[k] = extra.get(k)!;
  return cols;
}

/**
 * The part of arquero's ColumnTable that a runs table offers, typed here so that labnote's
 * declarations compile on their own under TypeScript 5.0 (arquero's need a newer compiler).
 * The value is a real arquero table: cast it to `import("arquero").ColumnTable` for every verb.
 */
export interface RunsTable {
  numRows(): number;
  numCols(): number;
  columnNames(): string[];
  /** The rows as plain objects. */
  objects(options?: { limit?: number; offset?: number }): Record<string, unknown>[];
  /** One column's values. */
  array(name: string): unknown[];
  get(name: string, row?: number): unknown;
  /** Keep rows where `predicate` holds, e.g. `t.filter((d) => d.status === "completed")`. */
  filter(predicate: string | ((d: Record<string, any>) => boolean)): RunsTable;
  /** Sort by columns; wrap a name in `desc()` from arquero for descending. */
  orderby(...keys: (string | object)[]): RunsTable;
  select(...columns: (string | string[] | object)[]): RunsTable;
  print(options?: number | { limit?: number }): RunsTable;
  toCSV(options?: object): string;
  toHTML(options?: object): string;
  toMarkdown(options?: object): string;
}

/** An arquero table with one row per run. */
export function runsTable(records: readonly RunRecord[]): RunsTable {
  return aq.table(runsColumns(records)) as unknown as RunsTable;
}
