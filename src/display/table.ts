import { MIME, PROTOCOL_VERSION, escapeHtml, toWire, type TablePayload } from "../protocol";
import type { RunRecord } from "../run/types";
import { runsColumns } from "../history/table";
import { getBridge } from "./bridge";
import { formatNumber } from "./card";
import { newDisplayId } from "./live";

const MAX_ROWS = 500;

function cell(v: unknown): unknown {
  if (typeof v === "number") return toWire(v);
  if (v instanceof Date) return v.getTime();
  return v === undefined ? null : v;
}

/** A table payload: the runs table's columns without start/end times (durations say enough). */
export function tablePayload(experiment: string, records: readonly RunRecord[]): TablePayload {
  const cols = runsColumns(records.slice(-MAX_ROWS));
  const keep = Object.keys(cols).filter((c) => !["startTime", "endTime"].includes(c));
  const n = cols.id.length;
  const rows: unknown[][] = [];
  for (let i = n - 1; i >= 0; i--) rows.push(keep.map((c) => cell(cols[c][i])));
  return { v: PROTOCOL_VERSION, kind: "table", experiment, columns: keep, rows };
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number" || v === "NaN" || v === "Infinity" || v === "-Infinity") return formatNumber(v as number);
  return String(v);
}

/** The table as a bundle with HTML and text fallbacks. */
export function tableBundle(p: TablePayload): Record<string, unknown> {
  const head = p.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = p.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(show(v))}</td>`).join("")}</tr>`).join("");
  const widths = p.columns.map((c, i) => Math.min(24, Math.max(c.length, ...p.rows.map((r) => show(r[i]).length))));
  const line = (vals: string[]) => vals.map((v, i) => v.slice(0, widths[i]).padEnd(widths[i])).join("  ");
  const text = [line(p.columns), ...p.rows.map((r) => line(r.map(show)))].join("\n");
  return {
    [MIME.table]: p,
    "text/html": `<div style="font-size:12px"><b>${escapeHtml(p.experiment)}</b> · ${p.rows.length} runs<table>${head ? `<thead><tr>${head}</tr></thead>` : ""}<tbody>${body}</tbody></table></div>`,
    "text/plain": text,
  };
}

/** Show the runs table in the cell output, if running in a notebook. Returns whether it was shown. */
export function displayTable(experiment: string, records: readonly RunRecord[]): boolean {
  const bridge = getBridge();
  if (!bridge) return false;
  bridge.display(tableBundle(tablePayload(experiment, records)), newDisplayId("table"));
  return true;
}
