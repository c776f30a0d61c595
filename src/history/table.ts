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

/** An arquero table with one row per run. */
export function runsTable(records: readonly RunRecord[]): aq.ColumnTable {
  return aq.table(runsColumns(records));
}
