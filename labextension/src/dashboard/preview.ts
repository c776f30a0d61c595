/**
 * Artifact previews in the run detail: images inline; JSON and CSV as tables (the first 100
 * rows); `.npy` arrays read in the browser by the protocol's parser and shown as dtype, shape,
 * min/max/mean and a small heatmap (2-D) or line (1-D); text as its first lines. Files come
 * through the Jupyter contents API; nothing here writes. The table builders are pure and
 * exported for tests.
 */
import type { Contents } from "@jupyterlab/services";
import { formatBytes, formatNumber, npyStats, parseNpy, splitCsvLine, type ArtifactRecord, type NpyArray } from "../protocol";
import { h } from "../views/dom";

/** The part of the contents manager previews read with (Contents.IManager has it). */
export interface FileSource {
  get(path: string, options?: Contents.IFetchOptions): Promise<Contents.IModel>;
  getDownloadUrl(path: string): Promise<string>;
}

/** Rows a table preview shows. */
export const PREVIEW_ROWS = 100;

/** Files larger than this are not fetched for a preview (they can still be opened or downloaded). */
export const PREVIEW_MAX_BYTES = { text: 5_000_000, npy: 64_000_000 } as const;

/** How an artifact is previewed. */
export type PreviewKind = "image" | "json" | "csv" | "npy" | "text" | "none";

/** The preview an artifact gets, by its format, media type and file name. */
export function previewKind(a: Pick<ArtifactRecord, "file" | "format" | "mediaType" | "source">): PreviewKind {
  // An added file renamed without its extension still has it in its source path.
  const ext = (/\.([a-z0-9]+)$/i.exec(a.file) ?? (a.format === "file" && a.source ? /\.([a-z0-9]+)$/i.exec(a.source) : null))?.[1]?.toLowerCase() ?? "";
  if (a.mediaType?.startsWith("image/") || ["png", "jpg", "jpeg", "gif", "webp", "svg", "bmp"].includes(ext)) return "image";
  if (a.format === "npy" || ext === "npy") return "npy";
  if (a.format === "csv" || a.mediaType === "text/csv" || ext === "csv" || ext === "tsv") return "csv";
  if (a.format === "json" || a.mediaType === "application/json" || ext === "json") return "json";
  if (a.format === "text" || a.mediaType?.startsWith("text/") || ["txt", "log", "md", "yaml", "yml"].includes(ext)) return "text";
  return "none";
}

/** A table to show: its header, at most {@link PREVIEW_ROWS} rows, and how many rows there are in all. */
export interface PreviewTable {
  header: string[];
  rows: string[][];
  total: number;
}

/** The first rows of a CSV text (RFC 4180 quoting, by the protocol's line splitter; tabs for `.tsv`). */
export function csvTable(text: string, limit = PREVIEW_ROWS, tab = false): PreviewTable {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const split = (l: string) => (tab ? l.split("\t") : (splitCsvLine(l) ?? [l]));
  const header = lines.length ? split(lines[0]) : [];
  const rows = lines.slice(1, 1 + limit).map(split);
  return { header, rows, total: Math.max(0, lines.length - 1) };
}

function cell(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return v;
  if (v === undefined) return "";
  return JSON.stringify(v);
}

/**
 * A JSON value as a table: an array of objects by their keys, an array of values by index, an
 * object by key and value (nested values as JSON text). Undefined for a lone scalar.
 */
export function jsonTable(v: unknown, limit = PREVIEW_ROWS): PreviewTable | undefined {
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => x !== null && typeof x === "object" && !Array.isArray(x))) {
      const keys = [...new Set(v.slice(0, limit).flatMap((x) => Object.keys(x as object)))];
      return { header: keys, rows: v.slice(0, limit).map((x) => keys.map((k) => cell((x as Record<string, unknown>)[k]))), total: v.length };
    }
    return { header: ["index", "value"], rows: v.slice(0, limit).map((x, i) => [String(i), cell(x)]), total: v.length };
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    return { header: ["key", "value"], rows: entries.slice(0, limit).map(([k, x]) => [k, cell(x)]), total: entries.length };
  }
  return undefined;
}

/** Bytes from the contents API's base64 text. */
export function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64.replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Viridis at nine stops: a perceptually even colour map that reads on light and dark backgrounds. */
const VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The colour of `t` in [0, 1] on the heatmap's colour map. */
export function heatColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as [number, number, number];
}

function tableNode(t: PreviewTable, what: string): HTMLElement {
  const table = h("table", { class: "jp-labnote-table jp-labnote-preview-table" }, [
    h("thead", {}, [h("tr", {}, t.header.map((c) => h("th", { text: c, title: c })))]),
    h("tbody", {}, t.rows.map((r) => h("tr", {}, r.map((c) => h("td", { text: c, title: c.length > 40 ? c : "" }))))),
  ]);
  const shown = t.rows.length;
  return h("div", { class: "jp-labnote-preview" }, [
    h("div", { class: "jp-labnote-preview-meta", text: shown < t.total ? `first ${shown} of ${t.total} ${what}` : `${t.total} ${what}` }),
    h("div", { class: "jp-labnote-preview-scroll" }, [table]),
  ]);
}

function note(text: string): HTMLElement {
  return h("div", { class: "jp-labnote-preview-meta", text });
}

/** The first 2-D slice of an array (rows × columns); a 1-D array is one row. */
function slice2d(a: NpyArray): { rows: number; cols: number; values: Float64Array; label: string } {
  const s = a.shape;
  if (s.length === 2) return { rows: s[0], cols: s[1], values: a.data, label: "" };
  const rows = s[s.length - 2];
  const cols = s[s.length - 1];
  return { rows, cols, values: a.data.subarray(0, rows * cols), label: `the first ${rows} × ${cols} slice ([${s.slice(0, -2).map(() => "0").join(", ")}, :, :])` };
}

/** A heatmap of a 2-D array on a canvas, at most 320 px wide, with its colour scale. */
function heatmap(a: NpyArray, min: number, max: number): HTMLElement {
  const { rows, cols, values, label } = slice2d(a);
  const canvas = h("canvas", { class: "jp-labnote-npy-heatmap" });
  canvas.width = cols;
  canvas.height = rows;
  const scale = Math.max(1, Math.min(Math.floor(320 / Math.max(cols, 1)), Math.floor(220 / Math.max(rows, 1))));
  canvas.style.width = `${Math.min(320, cols * scale)}px`;
  canvas.style.height = `${Math.round((Math.min(320, cols * scale) / cols) * rows)}px`;
  const ctx = canvas.getContext("2d");
  if (ctx && rows * cols > 0) {
    const img = ctx.createImageData(cols, rows);
    const span = max - min || 1;
    for (let i = 0; i < rows * cols; i++) {
      const v = values[i];
      const [r, g, b] = Number.isFinite(v) ? heatColor((v - min) / span) : [232, 17, 45];
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  const bar = h("div", { class: "jp-labnote-npy-scale" }, [
    h("span", { text: formatNumber(min) }),
    h("span", { class: "jp-labnote-npy-gradient", style: `background: linear-gradient(to right, ${VIRIDIS.map((c) => `rgb(${c.join(",")})`).join(", ")})` }),
    h("span", { text: formatNumber(max) }),
  ]);
  return h("div", { class: "jp-labnote-npy-plot" }, [canvas, bar, ...(label ? [note(label)] : [])]);
}

/** A line of a 1-D array on a canvas (theme colours), its range beside it. */
function line(a: NpyArray, min: number, max: number): HTMLElement {
  const canvas = h("canvas", { class: "jp-labnote-npy-line" });
  const w = 320;
  const hgt = 90;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = w * dpr;
  canvas.height = hgt * dpr;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${hgt}px`;
  const ctx = canvas.getContext("2d");
  const n = a.data.length;
  if (ctx && n > 0) {
    ctx.scale(dpr, dpr);
    const css = getComputedStyle(document.body);
    ctx.strokeStyle = css.getPropertyValue("--jp-border-color2").trim() || "#ccc";
    ctx.strokeRect(0.5, 0.5, w - 1, hgt - 1);
    ctx.strokeStyle = "#4e79a7";
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    const span = max - min || 1;
    // At most one point per pixel column: min and max of the values falling in it.
    const columns = Math.min(n, w - 4);
    for (let c = 0; c < columns; c++) {
      const from = Math.floor((c * n) / columns);
      const to = Math.max(from + 1, Math.floor(((c + 1) * n) / columns));
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = from; i < to; i++) {
        const v = a.data[i];
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (lo === Infinity) continue;
      const x = 2 + (columns === 1 ? (w - 4) / 2 : (c * (w - 4)) / (columns - 1));
      const y = (v: number) => hgt - 4 - ((v - min) / span) * (hgt - 8);
      if (c === 0) ctx.moveTo(x, y(lo));
      else ctx.lineTo(x, y(lo));
      if (hi !== lo) ctx.lineTo(x, y(hi));
    }
    ctx.stroke();
  }
  return h("div", { class: "jp-labnote-npy-plot" }, [canvas, h("div", { class: "jp-labnote-npy-scale" }, [h("span", { text: `${n} values, from ${formatNumber(min)} to ${formatNumber(max)}` })])]);
}

/** An `.npy` array's summary and plot. */
export function npyNode(a: NpyArray): HTMLElement {
  const st = npyStats(a.data);
  const facts: [string, string][] = [
    ["dtype", a.dtype],
    ["shape", `(${a.shape.join(", ")}${a.shape.length === 1 ? "," : ""})`],
    ["min", formatNumber(st.min)],
    ["max", formatNumber(st.max)],
    ["mean", formatNumber(st.mean)],
  ];
  if (st.nonFinite) facts.push(["NaN/∞", String(st.nonFinite)]);
  const dl = h("dl", { class: "jp-labnote-npy-facts" }, facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]));
  const parts: HTMLElement[] = [dl];
  if (a.data.length > 0 && Number.isFinite(st.min)) {
    if (a.shape.length === 1) parts.push(line(a, st.min, st.max));
    else if (a.shape.length >= 2) parts.push(heatmap(a, st.min, st.max));
  }
  return h("div", { class: "jp-labnote-preview jp-labnote-npy" }, parts);
}

/** The preview of an artifact at `path` (server-relative): fetched and drawn, or a line saying why not. */
export async function renderPreview(files: FileSource, path: string, a: ArtifactRecord): Promise<HTMLElement> {
  const kind = previewKind(a);
  try {
    if (kind === "image") {
      const img = h("img", { class: "jp-labnote-preview-image", alt: a.name, loading: "lazy" });
      img.src = await files.getDownloadUrl(path);
      return h("div", { class: "jp-labnote-preview" }, [img]);
    }
    if (kind === "none") return note("no preview for this kind of file");
    const limit = kind === "npy" ? PREVIEW_MAX_BYTES.npy : PREVIEW_MAX_BYTES.text;
    if (a.size > limit) return note(`${formatBytes(a.size)}: too large to preview here (open or download it)`);
    if (kind === "npy") {
      const m = await files.get(path, { content: true, type: "file", format: "base64" });
      const parsed = parseNpy(base64Bytes(String(m.content ?? "")));
      return parsed.ok ? npyNode(parsed.value) : note(parsed.reason);
    }
    const m = await files.get(path, { content: true, type: "file", format: "text" });
    const text = typeof m.content === "string" ? m.content : "";
    if (kind === "csv") return tableNode(csvTable(text, PREVIEW_ROWS, /\.tsv$/i.test(a.file)), "rows");
    if (kind === "json") {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (e) {
        return note(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
      const t = jsonTable(v);
      return t ? tableNode(t, Array.isArray(v) ? "items" : "keys") : h("pre", { class: "jp-labnote-preview-text", text: JSON.stringify(v) });
    }
    const lines = text.split("\n");
    return h("div", { class: "jp-labnote-preview" }, [
      h("pre", { class: "jp-labnote-preview-text", text: lines.slice(0, PREVIEW_ROWS).join("\n") }),
      ...(lines.length > PREVIEW_ROWS ? [note(`first ${PREVIEW_ROWS} of ${lines.length} lines`)] : []),
    ]);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return note(`could not be read: ${/"message"\s*:\s*"([^"]*)"/.exec(msg)?.[1] ?? msg}`);
  }
}
