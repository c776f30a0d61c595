import * as aq from "arquero";
import { isPlainObject, type RunRecord } from "../protocol";

interface ConfigNode {
  column?: unknown[];
  children?: Map<string, ConfigNode>;
}

/** The rows of a runs table as plain columns: id, status, times, config columns, metric summaries. */
export function runsColumns(records: readonly RunRecord[]): Record<string, unknown[]> {
  const n = records.length;
  const cols: Record<string, unknown[]> = {
    id: new Array(n),
    number: new Array(n),
    name: new Array(n),
    status: new Array(n),
    tags: new Array(n),
    startTime: new Array(n),
    endTime: new Array(n),
    duration: new Array(n),
  };
  // Columns are found through a tree that mirrors the config, so no dotted key string is
  // built per cell; names are made once at the end.
  const config: ConfigNode = {};
  const metrics = new Map<string, [unknown[], unknown[], unknown[]]>();
  const fresh = () => new Array(n).fill(undefined);
  const put = (node: ConfigNode, v: unknown, i: number): void => {
    if (isPlainObject(v) && Object.keys(v).length > 0) {
      node.children ??= new Map();
      for (const k in v) {
        let child = node.children.get(k);
        if (!child) node.children.set(k, (child = {}));
        put(child, v[k], i);
      }
    } else (node.column ??= fresh())[i] = Array.isArray(v) || (typeof v === "object" && v !== null) ? JSON.stringify(v) : v;
  };
  for (let i = 0; i < n; i++) {
    const r = records[i];
    cols.id[i] = r.id;
    cols.number[i] = r.number;
    cols.name[i] = r.name;
    cols.status[i] = r.status;
    cols.tags[i] = (r.tags ?? []).join(",");
    cols.startTime[i] = new Date(r.startTime);
    cols.endTime[i] = r.endTime === undefined ? undefined : new Date(r.endTime);
    cols.duration[i] = r.duration === undefined ? undefined : r.duration / 1000;
    const cfg = r.config ?? {};
    for (const k in cfg) {
      config.children ??= new Map();
      let child = config.children.get(k);
      if (!child) config.children.set(k, (child = {}));
      put(child, cfg[k], i);
    }
    for (const m in r.metrics ?? {}) {
      const s = r.metrics[m];
      let c = metrics.get(m);
      if (!c) metrics.set(m, (c = [fresh(), fresh(), fresh()]));
      c[0][i] = s.last;
      c[1][i] = s.min;
      c[2][i] = s.max;
    }
  }
  const cfgCols: [string, unknown[]][] = [];
  const collect = (node: ConfigNode, key: string): void => {
    if (node.column) cfgCols.push([key, node.column]);
    for (const [k, child] of node.children ?? []) collect(child, key ? `${key}.${k}` : k);
  };
  collect(config, "");
  cfgCols.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  for (const [k, c] of cfgCols) cols[`config.${k}`] = c;
  for (const [m, [last, min, max]] of metrics) {
    cols[`${m}.last`] = last;
    cols[`${m}.min`] = min;
    cols[`${m}.max`] = max;
  }
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
