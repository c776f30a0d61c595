/** The runs table in a cell: labnote's payload with HTML and text fallbacks. */
import { MIME, PROTOCOL_VERSION, escapeHtml, formatNumber, textTable, toWire, type RunRecord, type TablePayload } from "../../protocol";
import { runsColumns } from "../../history/table";
import { newDisplayId, type Display } from "./display";

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
  const text = textTable(p.columns, p.rows.map((r) => r.map(show)), 24);
  return {
    [MIME.table]: p,
    "text/html": `<div style="font-size:12px"><b>${escapeHtml(p.experiment)}</b> · ${p.rows.length} runs<table>${head ? `<thead><tr>${head}</tr></thead>` : ""}<tbody>${body}</tbody></table></div>`,
    "text/plain": text,
  };
}

/** Show the runs table in the cell output. */
export function displayTable(display: Display, experiment: string, records: readonly RunRecord[]): void {
  display.display(tableBundle(tablePayload(experiment, records)), newDisplayId("table"));
}
